"""Trends worker: the trend-terms topic -> a faust tumbling-window count table -> trend alerts.

Its own process and consumer group, so the table's changelog recovery after a restart or
rebalance never holds up the alerts stage (in one app it did: docs/faults.md).
"""

from __future__ import annotations

import functools
from typing import Any

import faust

from schemas import Alert, TrendTerm
from services.alerts.subscriptions import AlertSink
from services.common import metrics
from services.common.settings import Settings
from services.common.topics import Topics
from services.common.worker import make_app, retry_until_done, send_acked
from services.trends.core import TrendConfig, is_spike, trend_alert


def build(settings: Settings) -> faust.App:
    app = make_app("trends", settings)
    install_trends(app, settings, AlertSink(settings))
    return app


def install_trends(app: faust.App, settings: Settings, sink: AlertSink) -> None:
    """The counting agent and its windowed table; a spike becomes an alert on the alerts topic
    and in Redis, each step retried until durable (an agent must not raise)."""
    cfg = TrendConfig.from_settings(settings)
    topics = Topics.from_settings(settings)
    terms_topic = app.topic(  # created with the others by ensure_topics
        topics.trend_terms, key_serializer="raw", value_serializer="raw"
    )
    alerts_topic = app.topic(topics.alerts, key_serializer="raw", value_serializer="raw")
    counts = app.Table("trend-counts", default=int, partitions=settings.partitions).tumbling(
        cfg.window_s, expires=cfg.window_s * (cfg.baseline_windows + 2)
    )
    alerted: dict[str, int] = {}  # term -> start of the window it last alerted in

    async def emit(alert: Alert) -> None:
        payload = alert.model_dump_json().encode()
        send = functools.partial(
            send_acked, alerts_topic, alert.id, payload, timeout=settings.send_timeout_s
        )
        await retry_until_done("trends", send)
        await retry_until_done("trends", functools.partial(sink.deliver, alert))
        metrics.output_written("trends", alert)

    async def count(stream: Any) -> None:
        async for event in stream.events():
            term = event.key.decode()
            counts[term] += 1
            current = counts[term].current()
            ts = event.message.timestamp
            window_start = ts - (ts % cfg.window_s)
            if alerted.get(term) == int(window_start):
                continue
            baseline = [
                counts[term].delta(cfg.window_s * k) for k in range(1, cfg.baseline_windows + 1)
            ]
            if is_spike(current, baseline, cfg):
                alerted[term] = int(window_start)
                source = TrendTerm.model_validate_json(event.value)
                await emit(trend_alert(term, current, baseline, window_start, cfg, source))

    app.agent(terms_topic, name="newswire.trends.count")(count)
