"""Pure parts of the dashboard: stream entries -> SSE events, article snapshots, lag arithmetic."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schemas import Story

BODY_KEPT = 20_000


def stream_event(entry_id: bytes | str, fields: Mapping[bytes, bytes]) -> tuple[str, str]:
    """(SSE id, data): the id is the stream entry id, so a reconnect resumes exactly there."""
    eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return eid, fields.get(b"alert", b"{}").decode("utf-8", "replace")


def article_snapshot(tagged: Mapping[str, Any]) -> dict[str, Any]:
    """What the alert detail view needs of a tagged article: text, entities with spans, topics."""
    art = tagged.get("article") or {}
    body = str(art.get("body", ""))[:BODY_KEPT]
    return {
        "id": art.get("id"),
        "title": art.get("title"),
        "body": body,
        "url": art.get("url"),
        "source": art.get("source"),
        "countries": art.get("countries", []),
        "entities": [
            {
                "name": e.get("name"),
                "type": e.get("type"),
                "spans": [
                    [s["start"], s["end"]]
                    for s in e.get("spans", [])
                    if isinstance(s, dict) and s.get("end", 0) <= len(body)
                ],
            }
            for e in art.get("entities", [])
            if isinstance(e, dict)
        ],
        "topics": [t.get("label") for t in tagged.get("topics", []) if isinstance(t, dict)],
        "severity": tagged.get("severity"),
    }


def group_lag(committed: Mapping[Any, int], end: Mapping[Any, int]) -> int:
    """Records behind, over the partitions; a partition never committed counts from zero."""
    return sum(max(0, e - committed.get(tp, 0)) for tp, e in end.items())


def rates(
    previous: Mapping[str, int], current: Mapping[str, int], seconds: float
) -> dict[str, float]:
    if seconds <= 0:
        return dict.fromkeys(current, 0.0)
    return {k: max(0, v - previous.get(k, v)) / seconds for k, v in current.items()}


def load_centroids(path: Path) -> dict[str, dict[str, Any]]:
    """ISO code -> name, lat, lon from the enrichment gazetteer (rows without coordinates skipped)."""
    out: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            try:
                out[row["code"]] = {
                    "name": row.get("name") or row["code"],
                    "lat": float(row["lat"]),
                    "lon": float(row["lon"]),
                }
            except (KeyError, TypeError, ValueError):
                continue
    return out


def to_json(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def story_summary(record: bytes | str | None) -> dict[str, Any] | None:
    """What a story card needs of a story record in Redis (schemas.Story, written by the alerts
    stage): its article count, severity history, rules and place; None for a record missing or
    not readable."""
    if record is None:
        return None
    try:
        story = Story.model_validate_json(record)
    except ValidationError:
        return None
    return {
        "articles": story.articles,
        "history": [severity for severity, _ in story.history],
        "rules": {rule: a.severity for rule, a in story.alerted.items()},
        "location": story.location.model_dump(exclude_none=True) if story.location else None,
    }
