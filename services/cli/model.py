"""`newswire model train`: the sentence classifier, trained from the public corpora (MODEL_CARD.md)."""

from __future__ import annotations

import click

from services.offline.train import model_train
from services.offline.train_genre import genre_train


@click.group()
def model() -> None:
    """The learned sentence classifier of the detector."""


model.add_command(model_train, "train")
model.add_command(genre_train, "train-genre")
