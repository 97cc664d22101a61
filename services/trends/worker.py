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
from services.trends.core import TrendConfig, is_spike, trend_alert, window_of
from services.trends.counter import TrendCounter


@dataclass(frozen=True)
class Counting:
    """One story's terms and the window they count in."""

    story: StoryTerms
    window: int


def build(settings: Settings) -> faust.App:
    app = make_app("trends", settings)
    install_trends(app, settings, AlertSink(settings))
    return app


def install_trends(app: faust.App, settings: Settings, sink: AlertSink) -> Stage[Counting]:
    """Each record's terms counted in Redis; a spike becomes an alert on the alerts topic and in
    Redis, each step retried until durable; a record that does not parse is a dead letter."""
    cfg = TrendConfig.from_settings(settings)
    topics = Topics.from_settings(settings)
    counter = TrendCounter(make_redis(settings), RedisKeys(settings.redis_prefix), cfg)
    alerts_topic = app.topic(topics.alerts, key_serializer="raw", value_serializer="raw")
    timeout = settings.send_timeout_s
    alerted: dict[str, int] = {}  # term -> the window it last alerted in (ids dedupe the rest)

    def compute(msg: Any) -> list[Counting]:
        return [Counting(StoryTerms.model_validate_json(msg.value), window_of(msg.timestamp, cfg))]

    async def emit(alert: Alert) -> None:
        payload = alert.model_dump_json().encode()
        send = functools.partial(send_acked, alerts_topic, alert.id, payload, timeout=timeout)
        await retry_until_done("trends", send)
        await retry_until_done("trends", functools.partial(sink.deliver, alert))
        metrics.output_written("trends", alert)

    async def count(batch: Sequence[Counting]) -> None:
        for c in batch:
            story, window = c.story, c.window
            skip = frozenset(t for t in story.terms if alerted.get(t) == window)
            op = functools.partial(counter.count, story.article_id, window, story.terms, skip)
            for n in await retry_until_done("trends", op):
                if is_spike(n.current, n.baseline, cfg):
                    alerted[n.term] = window
                    await emit(trend_alert(n.term, n.current, n.baseline, window, cfg, story))

    return Stage(
        app=app,
        settings=settings,
        name="trends",
        compute_record=compute,
        deliver=count,
        sink="",
        count_outputs=False,
    )
