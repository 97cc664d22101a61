"""Dashboard pure parts: SSE ids from stream entries, article snapshots, lag and rates."""

from __future__ import annotations

from services.dashboard.app import GAZETTEER
from services.dashboard.core import article_snapshot, group_lag, load_centroids, rates, stream_event


def test_stream_event_keeps_the_entry_id() -> None:
    assert stream_event(b"1-0", {b"alert": b'{"id":"x"}'}) == ("1-0", '{"id":"x"}')


def test_article_snapshot_keeps_spans_inside_the_body() -> None:
    tagged = {
        "article": {
            "id": "a1",
            "title": "T",
            "body": "Kharkiv was hit.",
            "entities": [
                {"name": "Kharkiv", "type": "place", "spans": [{"start": 0, "end": 7}]},
                {"name": "Far", "type": "place", "spans": [{"start": 100, "end": 103}]},
            ],
        },
        "topics": [{"label": "Missile strike"}],
        "severity": "high",
    }
    snap = article_snapshot(tagged)
    assert snap["entities"][0]["spans"] == [[0, 7]] and snap["entities"][1]["spans"] == []
    assert snap["topics"] == ["Missile strike"] and snap["severity"] == "high"


def test_lag_and_rates() -> None:
    assert group_lag({"p0": 5}, {"p0": 8, "p1": 2}) == 5
    assert rates({"raw": 10}, {"raw": 30, "alerts": 1}, 2.0) == {"raw": 10.0, "alerts": 0.0}


def test_centroids_from_the_gazetteer() -> None:
    c = load_centroids(GAZETTEER)
    assert -90 <= c["UA"]["lat"] <= 90 and c["UA"]["name"] == "Ukraine"


def test_story_summary_of_a_story_record() -> None:
    from schemas import Alerted
    from services.alerts.stories import StoryView, signature_of
    from services.dashboard.core import story_summary
    from tests.unit.alerts.test_stories import template

    story = StoryView.open(signature_of(template("Kharkiv", "missile", 5, 1)))
    story.alerted["missile-strike"] = Alerted(
        severity="high", at=story.first_seen, number=0, article=story.id
    )
    story.history.append(("high", story.first_seen))
    got = story_summary(story.to_record().encode())
    assert got is not None and got["articles"] == 1 and got["history"] == ["high"]
    assert got["rules"] == {"missile-strike": "high"} and got["location"]["name"] == "Kharkiv"
    assert story_summary(None) is None and story_summary("not json") is None
