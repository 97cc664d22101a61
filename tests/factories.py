"""Small builders of events for tests that need a valid one and care about a few fields."""

from __future__ import annotations

import uuid
from typing import Any

from schemas import Alert, StageTimes


def make_alert(**fields: Any) -> Alert:
    """A valid high-severity missile-strike alert about Ukraine with a fresh id; override any field."""
    defaults: dict[str, Any] = {
        "id": uuid.uuid4().hex[:16],
        "rule_id": "missile-strike",
        "rule_description": "Missile strike",
        "severity": "high",
        "score": 7.5,
        "matches": [],
        "article_id": "a1",
        "story_id": "a1",
        "title": "Missile strike hits depot",
        "countries": ["UA"],
        "times": StageTimes(),
    }
    return Alert(**{**defaults, **fields})
