"""Tagging worker: enriched topic -> `tag()` -> tagged topic."""

from __future__ import annotations

import faust

from schemas import EnrichedArticle, TaggedArticle
from services.common.settings import Settings
from services.common.worker import Stage, make_app
from services.tagging.core import tag
from services.text.taxonomy import load_taxonomy


def build(settings: Settings) -> faust.App:
    taxonomy = load_taxonomy(settings.taxonomy_file)

    def compute(value: bytes) -> list[TaggedArticle]:
        return [tag(EnrichedArticle.model_validate_json(value), taxonomy)]

    app = make_app("tagging", settings)
    Stage(
        app=app,
        settings=settings,
        name="tagging",
        compute=compute,
    )
    return app
