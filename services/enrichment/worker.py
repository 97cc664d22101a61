"""Enrichment worker: raw topic -> `enrich()` -> enriched topic."""

from __future__ import annotations

import faust

from schemas import EnrichedArticle, RawArticle
from services.common.settings import Settings
from services.common.worker import Stage, make_app
from services.enrichment.core import enrich, warm_up


def compute(value: bytes) -> list[EnrichedArticle]:
    return [enrich(RawArticle.model_validate_json(value))]


def build(settings: Settings) -> faust.App:
    warm_up()  # build the automaton and load the models at start-up, not on the first article
    app = make_app("enrichment", settings)
    Stage(
        app=app,
        settings=settings,
        name="enrichment",
        compute=compute,
    )
    return app
