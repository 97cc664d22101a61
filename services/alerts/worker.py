"""Alerts worker: tagged topic -> `evaluate()` -> alerts topic and Redis (pub/sub + stream)."""

from __future__ import annotations

import faust
import redis.asyncio as aioredis

from schemas import Alert, TaggedArticle
from services.alerts.core import StoryState, evaluate
from services.alerts.delivery import RedisDelivery
from services.alerts.rules import load_rules
from services.common.settings import Settings
from services.common.topics import RedisKeys, Topics
from services.common.worker import Stage, make_app
from services.tagging.core import load_taxonomy


def build(settings: Settings) -> faust.App:
    rules = load_rules(settings.rules_file)  # fails at start-up with file and field named
    client = aioredis.Redis.from_url(settings.redis, health_check_interval=15)
    delivery = RedisDelivery(
        client,
        RedisKeys(settings.redis_prefix),
        ttl_s=settings.alert_dedupe_ttl_s,
        maxlen=settings.alerts_stream_maxlen,
    )

    state = StoryState()  # story index of this process; lost on restart (see core.py)
    taxonomy = load_taxonomy(settings.taxonomy_file)  # its traps also judge rule phrases

    def compute(value: bytes) -> list[Alert]:
        return evaluate(TaggedArticle.model_validate_json(value), rules, state, taxonomy)

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
