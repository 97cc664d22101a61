"""Trends worker: the trend-terms topic -> counts per window in Redis -> trend alerts.

Its own process and consumer group: counting never holds up the alerts stage, and since the
counts live in Redis (services/trends/counter.py) the worker keeps no state and replicas share
one count per term. It runs on the same `Stage` shell as the other workers (dead letters,
retries, batching, acks); its outputs are not sent on but counted, and a spike's alert goes to
the alerts topic and to Redis.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import faust

from schemas import Alert, StoryTerms
from services.common import metrics
from services.common.redisconn import make_redis
from services.common.settings import Settings
from services.common.topics import RedisKeys, Topics
from services.common.worker import Stage, make_app, retry_until_done, send_acked
from services.delivery.sink import AlertSink
from services.trends.core import TrendConfig
from services.trends.counter import TrendCounter
from services.trends.detector import TrendDetector
from services.trends.terms import load_trend_terms


@dataclass(frozen=True)
class Counting:
    """One story and when its record arrived (its Kafka timestamp, epoch s): the bound of its
    event time when ingest did not stamp it."""

    story: StoryTerms
    received_s: float


def build(settings: Settings) -> faust.App:
    app = make_app("trends", settings)
    install_trends(app, settings, AlertSink(settings))
    return app


def install_trends(app: faust.App, settings: Settings, sink: AlertSink) -> Stage[Counting]:
    """Each story counted in Redis in its window of event time; a spike becomes an alert on the
    alerts topic and in Redis, each step retried until durable, and only then recorded as raised;
    a record that does not parse is a dead letter. The trends file is checked at start-up."""
    cfg = TrendConfig.from_settings(settings)
    terms = load_trend_terms(settings.trends_file, settings.taxonomy_file)
    topics = Topics.from_settings(settings)
    counter = TrendCounter(make_redis(settings), RedisKeys(settings.redis_prefix), cfg)
    detector = TrendDetector(counter, cfg, terms)
    alerts_topic = app.topic(topics.alerts, key_serializer="raw", value_serializer="raw")
    timeout = settings.send_timeout_s

    def compute(msg: Any) -> list[Counting]:
        return [Counting(StoryTerms.model_validate_json(msg.value), float(msg.timestamp))]

    async def emit(alert: Alert) -> None:
        payload = alert.model_dump_json().encode()
        send = functools.partial(send_acked, alerts_topic, alert.id, payload, timeout=timeout)
        await retry_until_done("trends", send)
        await retry_until_done("trends", functools.partial(sink.deliver, alert))
        metrics.output_written("trends", alert)

    async def count(batch: Sequence[Counting]) -> None:
        for c in batch:
            observe = functools.partial(detector.observe, c.story, c.received_s)
            raised = await retry_until_done("trends", observe)
            for r in raised:
                await emit(r.alert)
            if raised:
                await retry_until_done("trends", functools.partial(detector.done, raised))

    return Stage(
        app=app,
        settings=settings,
        name="trends",
        compute_record=compute,
        deliver=count,
        sink="",
        count_outputs=False,
    )
