"""Alerts worker: tagged topic -> `evaluate()` -> alerts topic and Redis (pub/sub + stream)."""

from __future__ import annotations

import faust

from schemas import Alert, TaggedArticle
from services.alerts.core import evaluate
from services.alerts.delivery import RedisDelivery
from services.alerts.rules import load_rules
from services.common.redisconn import make_redis
from services.common.settings import Settings
from services.common.topics import RedisKeys, Topics
from services.common.worker import Stage, make_app


def build(settings: Settings) -> faust.App:
    rules = load_rules(settings.rules_file)  # fails at start-up with file and field named
    client = make_redis(settings)
    delivery = RedisDelivery(
        client,
        RedisKeys(settings.redis_prefix),
        ttl_s=settings.alert_dedupe_ttl_s,
        maxlen=settings.alerts_stream_maxlen,
    )

    def compute(value: bytes) -> list[Alert]:
        return evaluate(TaggedArticle.model_validate_json(value), rules)

    app = make_app("alerts", settings)
    t = Topics.from_settings(settings)
    Stage(
        app=app,
        settings=settings,
        name="alerts",
        source=t.tagged,
        sink=t.alerts,
        compute=compute,
        deliver=delivery.deliver,
    )
    return app
