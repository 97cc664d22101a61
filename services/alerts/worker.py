"""Alerts worker: tagged topic -> `evaluate()` -> alerts topic and Redis (pub/sub + stream), and
each story-opening article's terms to the trend-terms topic (counted by the trends worker)."""

from __future__ import annotations

from collections.abc import Sequence

import faust

from schemas import Alert, StoryTerms, TaggedArticle
from services.alerts.core import StoryState, evaluate
from services.alerts.rules import load_rules
from services.alerts.trend_terms import trend_records
from services.common.settings import Settings
from services.common.topics import Topics
from services.common.worker import Stage, make_app
from services.delivery.sink import AlertSink
from services.text.taxonomy import load_taxonomy


def build(settings: Settings) -> faust.App:
    rules = load_rules(settings.rules_file)  # fails at start-up with file and field named
    sink = AlertSink(settings)

    async def deliver(outs: Sequence[Alert | StoryTerms]) -> None:
        await sink.deliver_many([o for o in outs if isinstance(o, Alert)])

    state = StoryState()  # story index of this process; lost on restart (see core.py)
    taxonomy = load_taxonomy(settings.taxonomy_file)  # its traps also judge rule phrases

    def compute(value: bytes) -> list[Alert | StoryTerms]:
        tagged = TaggedArticle.model_validate_json(value)
        alerts: list[Alert | StoryTerms] = list(evaluate(tagged, rules, state, taxonomy))
        return alerts + trend_records(tagged, state)  # the story index of evaluate, reused

    app = make_app("alerts", settings)
    t = Topics.from_settings(settings)
    Stage(
        app=app,
        settings=settings,
        name="alerts",
        compute=compute,
        deliver=deliver,
        side_topics={StoryTerms: t.trend_terms},
    )

    async def flush_digests() -> None:
        await sink.fanout.flush_digests()

    app.timer(interval=settings.digest_window_s)(flush_digests)
    return app
