"""Alerts worker: tagged topic -> `evaluate()` -> alerts topic and Redis (pub/sub + stream)."""

from __future__ import annotations

import faust

from schemas import Alert, TaggedArticle, TrendTerm
from services.alerts.core import StoryState, evaluate
from services.alerts.delivery import RedisDelivery
from services.alerts.rules import load_rules
from services.alerts.subscriptions import FanOut
from services.alerts.trends import install_trends, trend_records
from services.common.redisconn import make_redis
from services.common.settings import Settings
from services.common.topics import RedisKeys, Topics
from services.common.worker import Stage, make_app
from services.tagging.core import load_taxonomy


def build(settings: Settings) -> faust.App:
    rules = load_rules(settings.rules_file)  # fails at start-up with file and field named
    client = make_redis(settings)
    keys = RedisKeys(settings.redis_prefix)
    delivery = RedisDelivery(
        client, keys, ttl_s=settings.alert_dedupe_ttl_s, maxlen=settings.alerts_stream_maxlen
    )
    fanout = FanOut(client, keys, window_s=settings.digest_window_s)

    async def deliver(alert: Alert | TrendTerm) -> None:
        if isinstance(alert, Alert) and await delivery.deliver(alert) is not None:  # first only
            await fanout.publish(alert)

    state = StoryState()  # story index of this process; lost on restart (see core.py)
    taxonomy = load_taxonomy(settings.taxonomy_file)  # its traps also judge rule phrases

    def compute(value: bytes) -> list[Alert | TrendTerm]:
        tagged = TaggedArticle.model_validate_json(value)
        alerts: list[Alert | TrendTerm] = list(evaluate(tagged, rules, state, taxonomy))
        return alerts + trend_records(tagged, state)  # the story index of evaluate, reused

    app = make_app("alerts", settings)
    t = Topics.from_settings(settings)
    stage = Stage(
        app=app,
        settings=settings,
        name="alerts",
        source=t.tagged,
        sink=t.alerts,
        compute=compute,
        deliver=deliver,
        side_topics={TrendTerm: t.trend_terms},
    )

    install_trends(app, settings, emit=stage.output)

    async def flush_digests() -> None:
        await fanout.flush_digests()

    app.timer(interval=settings.digest_window_s)(flush_digests)
    return app
