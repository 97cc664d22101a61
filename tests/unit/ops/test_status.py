from __future__ import annotations

from services.ops.status import format_status, status_rows


def test_rows_sum_replicas_keep_newest_error_and_list_missing_services() -> None:
    beats = [
        {"service": "enrichment", "instance": "a", "processed": "10", "dead_lettered": "1",
         "errors": "0", "last_error": "ValueError: old", "last_error_at": "2024-01-01T00:00:00",
         "seen_at": "995", "endpoint": "http://a:9101"},
        {"service": "enrichment", "instance": "b", "processed": "5", "dead_lettered": "0",
         "errors": "2", "last_error": "KafkaError: new\nline", "last_error_at": "2024-01-02T00:00:00",
         "seen_at": "990", "endpoint": "http://b:9101"},
    ]  # fmt: skip
    rows = status_rows(("ingest", "enrichment"), beats, {"enrichment": 42}, now=1000.0)
    by = {r["service"]: r for r in rows}
    assert by["ingest"]["state"] == "not running" and by["ingest"]["lag"] is None
    e = by["enrichment"]
    assert (e["replicas"], e["processed"], e["dead_lettered"], e["errors"]) == (2, 15, 1, 2)
    assert e["lag"] == 42 and e["last_seen_s"] == 5.0
    assert e["last_error"].startswith("KafkaError")
    text = format_status(rows)
    assert len(text.splitlines()) == 3, "a multi-line error stays on its service's line"
    assert "KafkaError: new line" in text


def test_an_unexpected_reporter_gets_its_own_row() -> None:
    rows = status_rows(("ingest",), [{"service": "dashboard", "seen_at": "1"}], {}, now=2.0)
    assert [r["service"] for r in rows] == ["ingest", "dashboard"]
