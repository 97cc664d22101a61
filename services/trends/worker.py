"""Trends worker: the trend-terms topic -> counts per window in Redis -> trend alerts.

Its own process and consumer group: counting never holds up the alerts stage, and since the
counts live in Redis (services/trends/counter.py) the worker keeps no state and replicas share
one count per term.
"""

from __future__ import annotations

import functools
from typing import Any

import faust

from schemas import Alert, StoryTerms
from services.common import metrics
from services.common.redisconn import make_redis
from services.common.settings import Settings
from services.common.topics import RedisKeys, Topics
from services.common.worker import make_app, retry_until_done, send_acked, send_dead_letter
from services.delivery.sink import AlertSink
from services.trends.core import TrendConfig, is_spike, trend_alert, window_of
from services.trends.counter import TrendCounter


def build(settings: Settings) -> faust.App:
    app = make_app("trends", settings)
    install_trends(app, settings, AlertSink(settings))
    return app


def install_trends(app: faust.App, settings: Settings, sink: AlertSink) -> None:
    """The counting agent; a spike becomes an alert on the alerts topic and in Redis, each step
    retried until durable (an agent must not raise), a record that does not parse goes to the
    dead-letter topic."""
    cfg = TrendConfig.from_settings(settings)
    topics = Topics.from_settings(settings)
    counter = TrendCounter(make_redis(settings), RedisKeys(settings.redis_prefix), cfg)
    terms_topic = app.topic(topics.trend_terms, key_serializer="raw", value_serializer="raw")
    alerts_topic = app.topic(topics.alerts, key_serializer="raw", value_serializer="raw")
    dlq = app.topic(topics.deadletter, key_serializer="raw", value_serializer="raw")
    timeout = settings.send_timeout_s
    alerted: dict[str, int] = {}  # term -> the window it last alerted in (ids dedupe the rest)

    async def emit(alert: Alert) -> None:
        payload = alert.model_dump_json().encode()
        send = functools.partial(send_acked, alerts_topic, alert.id, payload, timeout=timeout)
        await retry_until_done("trends", send)
        await retry_until_done("trends", functools.partial(sink.deliver, alert))
        metrics.output_written("trends", alert)

    async def count(stream: Any) -> None:
        async for event in stream.events():
            msg = event.message
            began = metrics.record_in("trends")
            try:
                story = StoryTerms.model_validate_json(msg.value)
            except Exception as exc:  # permanent: the record itself is bad
                dead = functools.partial(send_dead_letter, dlq, "trends", msg, exc, timeout)
                await retry_until_done("trends", dead)
                metrics.dead_lettered("trends", exc)
                continue
            window = window_of(msg.timestamp, cfg)
            skip = frozenset(t for t in story.terms if alerted.get(t) == window)
            op = functools.partial(counter.count, story.article_id, window, story.terms, skip)
            for c in await retry_until_done("trends", op):
                if is_spike(c.current, c.baseline, cfg):
                    alerted[c.term] = window
                    await emit(trend_alert(c.term, c.current, c.baseline, window, cfg, story))
            metrics.record_done("trends", began)

    app.agent(terms_topic, name="newswire.trends.count")(count)
