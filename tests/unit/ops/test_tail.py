"""`newswire tail` helpers: --since parsing and --where filters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.ops.tail import Filter, format_record, keep, parse_since

NOW = datetime(2024, 11, 19, 12, tzinfo=UTC)


def test_since_relative_and_iso() -> None:
    assert parse_since("10m", NOW) == NOW - timedelta(minutes=10)
    assert parse_since("1.5h", NOW) == NOW - timedelta(minutes=90)
    assert parse_since("2024-11-19T10:00:00Z", NOW) == datetime(2024, 11, 19, 10, tzinfo=UTC)
    assert parse_since("2024-11-19T10:00", NOW).tzinfo is not None
    with pytest.raises(ValueError, match="since"):
        parse_since("yesterday", NOW)


def test_where_matches_nested_and_lists() -> None:
    doc = {
        "severity": "HIGH",
        "countries": ["UA", "RU"],
        "article": {"language": "en"},
        "matches": [{"term": "missile"}],
    }
    value = json.dumps(doc).encode()
    assert keep(value, [Filter.parse("severity=high")], None)
    assert keep(value, [Filter.parse("countries=RU"), Filter.parse("article.language=en")], None)
    assert keep(value, [Filter.parse("matches.term=missile")], None)
    assert not keep(value, [Filter.parse("countries=US")], None)
    assert not keep(value, [Filter.parse("nothere=1")], None)
    assert keep(value, [], "MISSILE") and not keep(value, [], "drone")
    assert not keep(b"not json", [Filter.parse("a=b")], None)
    with pytest.raises(ValueError):
        Filter.parse("novalue")


def test_format_record() -> None:
    line = format_record(1, 42, int(NOW.timestamp() * 1000), b"k", b'{"a":1}')
    assert line == '2024-11-19T12:00:00Z 1@42 key=k {"a":1}'
