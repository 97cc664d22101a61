"""Metric hooks: counts, latency from the event's own timestamps, alerts by severity and rule."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import REGISTRY

from schemas import Alert, RawArticle, StageTimes
from schemas.base import utcnow
from services.common import metrics
from tests.factories import make_alert


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _alert(rule: str, severity: str) -> Alert:
    now = utcnow()
    return make_alert(
        id=f"a-{rule}",
        rule_id=rule,
        severity=severity,
        times=StageTimes(ingested=now - timedelta(seconds=2), alerted=now),
    )


def test_outputs_count_latency_and_alerts() -> None:
    before_out = value("newswire_records_out_total", stage="t-alerts")
    before_alerts = value("newswire_alerts_total", severity="high", rule="t-rule")
    before_e2e = value("newswire_end_to_end_latency_seconds_count", stage="t-alerts")
    started = metrics.record_in("t-alerts")
    for alert in (_alert("t-rule", "high"), _alert("t-rule", "high")):
        metrics.output_written("t-alerts", alert)
    metrics.record_done("t-alerts", started)
    assert value("newswire_records_in_total", stage="t-alerts") >= 1
    assert value("newswire_records_out_total", stage="t-alerts") == before_out + 2
    assert value("newswire_alerts_total", severity="high", rule="t-rule") == before_alerts + 2
    assert value("newswire_end_to_end_latency_seconds_count", stage="t-alerts") == before_e2e + 2
    # both alerts were ingested 2 s ago: they land in the (1, 2.5] bucket, not below
    assert value("newswire_end_to_end_latency_seconds_bucket", stage="t-alerts", le="1.0") == 0
    assert value("newswire_end_to_end_latency_seconds_bucket", stage="t-alerts", le="2.5") >= 2


def test_an_article_without_ingest_time_adds_no_end_to_end_sample() -> None:
    raw = RawArticle(title="t", body="b")  # type: ignore[call-arg]
    assert metrics.ingested_at(raw) is None
    before = value("newswire_end_to_end_latency_seconds_count", stage="t-raw")
    metrics.output_written("t-raw", raw)
    assert value("newswire_end_to_end_latency_seconds_count", stage="t-raw") == before


def test_errors_and_dead_letters_set_the_last_error() -> None:
    metrics.dead_lettered("t-stage", ValueError("bad\nrecord"))
    assert metrics.STATE.last_error == "ValueError: bad\nrecord"
    assert value("newswire_dead_letters_total", stage="t-stage") >= 1
    metrics.error("t-stage", ConnectionError("broker down"))
    assert metrics.STATE.last_error.startswith("ConnectionError")
    assert value("newswire_errors_total", stage="t-stage", kind="output") >= 1


def test_feed_hook_tracks_good_and_failed_polls() -> None:
    metrics.feed_fetched("t-feed", ok=True, items=3)
    metrics.feed_fetched("t-feed", ok=False)
    assert value("newswire_feed_items_total", feed="t-feed") == 3
    assert value("newswire_feed_fetches_total", feed="t-feed", outcome="error") == 1
    assert value("newswire_feed_last_success_timestamp_seconds", feed="t-feed") > 0
