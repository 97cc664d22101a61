"""`Story`: readable names in Python, the compact encoding in Redis, old records still read."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from schemas import Alerted, Story
from services.dashboard.core import story_summary

# a record as the alerts stage wrote it before the model existed (StoryView.to_record, json.dumps)
OLD = (
    '{"id":"5d7fac6ff1aa7972","f":"2026-11-23T06:01:00+00:00","l":"2026-11-23T06:01:00+00:00",'
    '"t":["missile-strike"],"loc":{"name":"Kharkiv","kind":"city","country":"UA","admin1":"07",'
    '"lat":49.9818,"lon":36.2548,"ref":"geonames:706483","confidence":0.97,"source":"sentence"},'
    '"d":null,"c":24,"ac":["RU"],"sk":["0872029109aa254d"],"fp":[],"n":3,'
    '"al":{"missile-strike":["high","2026-11-23T06:01:00+00:00",0,"5d7fac6ff1aa7972"]},'
    '"h":[["high","2026-11-23T06:01:00+00:00"]],"tg":true}'
)
LOCATION = json.loads(OLD)["loc"]


def test_an_old_record_reads_with_readable_names() -> None:
    s = Story.model_validate_json(OLD)
    assert s.first_seen == datetime(2026, 11, 23, 6, 1, tzinfo=UTC) and s.articles == 3
    assert s.sketches == [(0x08720291, 0x09AA254D)] and s.actors == ["RU"] and s.casualties == 24
    assert s.location is not None and s.location.name == "Kharkiv" and s.day is None
    assert s.alerted["missile-strike"] == Alerted(
        severity="high", at=s.first_seen, number=0, article=s.id
    )
    assert s.history == [("high", s.first_seen)]


def test_the_encoding_stays_compact_and_round_trips() -> None:
    s = Story.model_validate_json(OLD)
    encoded = json.loads(s.encode())
    assert set(encoded) == set(json.loads(OLD)) - {"d"}  # the two-letter keys; no nulls
    assert encoded["sk"] == ["0872029109aa254d"] and encoded["loc"] == LOCATION
    assert encoded["al"]["missile-strike"] == ["high", "2026-11-23T06:01:00+00:00", 0, s.id]
    assert Story.model_validate_json(s.encode()) == s
    rose = s.model_copy(
        update={
            "alerted": {
                "r": Alerted(severity="critical", at=s.last_seen, number=0, previous="high")
            }
        }
    )
    assert json.loads(rose.encode())["al"]["r"][4] == "high"
    assert Story.model_validate_json(rose.encode()).alerted["r"].previous == "high"


def test_a_record_missing_its_optional_parts_reads_with_the_old_defaults() -> None:
    s = Story.model_validate_json(
        '{"id":"b","f":"2026-11-23T07:00:00Z","l":"2026-11-23T07:00:00Z","t":[]}'
    )
    assert (s.articles, s.tagged, s.alerted, s.sketches) == (1, True, {}, [])


def test_the_dashboard_reads_an_old_record_through_the_model() -> None:
    got = story_summary(OLD)
    assert got == {
        "articles": 3,
        "history": ["high"],
        "rules": {"missile-strike": "high"},
        "location": LOCATION,
    }
    assert story_summary('{"id": 1}') is None and story_summary("[]") is None
