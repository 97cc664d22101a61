"""Prometheus metrics of every service, and the hooks the shells call to feed them.

The hooks also keep this process's `STATE` (counts, last error) that the heartbeat publishes to Redis
for `newswire status`. Metric names are the contract of the Grafana dashboard (a test checks it).
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from schemas.base import utcnow

# Stage work is sub-millisecond to a second; end to end is seconds to minutes (replays of old articles).
STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
E2E_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)

RECORDS_IN = Counter("newswire_records_in", "Records a stage consumed.", ["stage"])
RECORDS_OUT = Counter("newswire_records_out", "Records a stage produced.", ["stage"])
ERRORS = Counter(
    "newswire_errors", "Failed operations (retried outputs, rejected requests).", ["stage", "kind"]
)
DEAD_LETTERS = Counter("newswire_dead_letters", "Records sent to the dead-letter topic.", ["stage"])
STAGE_LATENCY = Histogram(
    "newswire_stage_latency_seconds",
    "Time a stage spent on one record, outputs written included.",
    ["stage"],
    buckets=STAGE_BUCKETS,
)
E2E_LATENCY = Histogram(
    "newswire_end_to_end_latency_seconds",
    "From ingestion to the moment a stage wrote its output (`times.ingested` to now).",
    ["stage"],
    buckets=E2E_BUCKETS,
)
CONSUMER_LAG = Gauge(
    "newswire_consumer_lag",
    "Records on the input topic not yet committed by the stage's consumer group.",
    ["group", "topic", "partition"],
)
ALERTS = Counter("newswire_alerts", "Alerts produced.", ["severity", "rule"])
HEARTBEAT = Gauge("newswire_heartbeat_timestamp_seconds", "Last heartbeat of this process.")
# Feed health: the feed poller (issue 7, not on main yet) calls `feed_fetched`.
FEED_FETCHES = Counter("newswire_feed_fetches", "Feed polls by outcome.", ["feed", "outcome"])
FEED_ITEMS = Counter("newswire_feed_items", "Articles a feed poll yielded.", ["feed"])
FEED_LAST_SUCCESS = Gauge(
    "newswire_feed_last_success_timestamp_seconds",
    "Unix time of a feed's last good poll.",
    ["feed"],
)


@dataclass
class ServiceState:
    """What `newswire status` shows for one process."""

    service: str = ""
    instance: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    started_at: str = field(default_factory=lambda: utcnow().isoformat())
    processed: int = 0
    dead_lettered: int = 0
    errors: int = 0
    last_error: str = ""
    last_error_at: str = ""
    endpoint: str = ""

    def as_fields(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}


STATE = ServiceState()


def record_in(stage: str) -> float:
    """Counts a consumed record; returns the start time for `record_done`."""
    RECORDS_IN.labels(stage).inc()
    return time.perf_counter()


def record_done(stage: str, started: float) -> None:
    """A consumed record fully handled: its outputs are durable."""
    STAGE_LATENCY.labels(stage).observe(time.perf_counter() - started)
    STATE.processed += 1


def output_written(stage: str, out: Any) -> None:
    """One output is durable (from the agent loop or emitted on its own, like a trend alert)."""
    RECORDS_OUT.labels(stage).inc()
    ingested = ingested_at(out)
    if ingested is not None:
        E2E_LATENCY.labels(stage).observe(max(0.0, (utcnow() - ingested).total_seconds()))
    severity, rule = getattr(out, "severity", None), getattr(out, "rule_id", None)
    if isinstance(severity, str) and isinstance(rule, str):
        ALERTS.labels(severity, rule).inc()


def ingested(count: int) -> None:
    """Ingest accepted `count` articles and Kafka acknowledged them."""
    RECORDS_IN.labels("ingest").inc(count)
    RECORDS_OUT.labels("ingest").inc(count)
    STATE.processed += count


def rejected(stage: str, status: int) -> None:
    """A request answered with a 4xx/5xx; counted by status, it is the client's error, not ours."""
    ERRORS.labels(stage, f"http_{status}").inc()


def ingested_at(event: Any) -> datetime | None:
    """`times.ingested` of an event, or of the article it wraps (a TaggedArticle)."""
    times = getattr(event, "times", None) or getattr(getattr(event, "article", None), "times", None)
    value = getattr(times, "ingested", None)
    return value if isinstance(value, datetime) else None


def dead_lettered(stage: str, exc: BaseException) -> None:
    DEAD_LETTERS.labels(stage).inc()
    STATE.dead_lettered += 1
    _note(exc)


def error(stage: str, exc: BaseException, kind: str = "output") -> None:
    ERRORS.labels(stage, kind).inc()
    STATE.errors += 1
    _note(exc)


def _note(exc: BaseException) -> None:
    STATE.last_error = f"{type(exc).__name__}: {exc}"[:500]
    STATE.last_error_at = utcnow().isoformat()


def feed_fetched(feed: str, ok: bool, items: int = 0) -> None:
    """Hook for the feed poller: one poll of `feed`, good or not, and how many articles it gave."""
    FEED_FETCHES.labels(feed, "ok" if ok else "error").inc()
    if ok:
        FEED_ITEMS.labels(feed).inc(items)
        FEED_LAST_SUCCESS.labels(feed).set(time.time())
