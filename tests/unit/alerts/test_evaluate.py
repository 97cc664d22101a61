"""`evaluate(tagged, rules, state)`: story clustering, one alert per (story, rule) per window."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from schemas import Alert, TaggedArticle
from services.alerts.core import StoryState, evaluate
from services.alerts.rules import load_rules
from services.alerts.stories import Rules
from services.enrichment.core import enrich
from services.ingest.parse import from_text
from services.offline.analyze import tagged_from
from services.tagging.core import tag

ROOT = Path(__file__).parents[3]
RULES = load_rules(ROOT / "services" / "alerts" / "data" / "rules.yaml")

WIRE = (
    "Russian forces shelled Kherson on Monday, damaging homes and a school near the river, the "
    "regional administration said. Nobody was hurt, but power was cut to several streets while "
    "repair crews waited for the shelling to stop."
)
LATER = (
    "Russian shelling of Kherson on Monday killed 12 residents, including children, the regional "
    "administration said, raising the toll from earlier reports."
)


def outlet(n: int, body: str = WIRE, hour: int = 8, minute: int = 0) -> TaggedArticle:
    """The wire story as outlet n runs it: its own URL, its own headline, a light edit."""
    edited = body if n % 2 else body.replace("on Monday", "early on Monday")
    return tagged_from(
        f"Outlet {n}: Kherson shelled",
        edited,
        url=f"https://outlet{n}.example/kherson",
        published=f"2026-11-20T{hour:02d}:{minute:02d}:00Z",
    )


def run(articles: list[TaggedArticle], state: StoryState | None = None) -> list[Alert]:
    st = state if state is not None else StoryState()
    return [a for t in articles for a in evaluate(t, RULES, st)]


def test_seed_article_raises_missile_strike_and_nuclear_threat() -> None:
    seed = sorted((ROOT / "seeds").glob("*.txt"))[0]
    alerts = evaluate(tag(enrich(from_text(seed.read_text()))), RULES, StoryState())
    by_rule = {a.rule_id: a for a in alerts}
    assert {"missile-strike", "nuclear-threat"} <= set(by_rule)
    threat = by_rule["nuclear-threat"]
    assert threat.severity == "critical"
    assert any("nuclear response doctrine" in m.sentence for m in threat.matches)


def test_twenty_outlets_one_alert_then_one_more_when_severity_rises() -> None:
    state = StoryState()
    copies = run([outlet(n, minute=n) for n in range(20)], state)
    assert [(a.rule_id, a.severity) for a in copies] == [("ground-fighting", "medium")]
    story = copies[0].story_id
    assert state.stories[story].articles == 20
    later = run([outlet(21, LATER, hour=9)], state)
    assert [(a.rule_id, a.severity, a.previous_severity) for a in later] == [
        ("ground-fighting", "high", "medium")
    ]
    assert later[0].story_id == story and later[0].story_articles == 21
    assert later[0].id != copies[0].id
    # a copy of the later report does not alert again: severity did not rise further
    assert run([outlet(22, LATER, hour=9, minute=5)], state) == []


def test_replaying_the_archive_gives_the_same_alert_ids() -> None:
    archive = [outlet(n, minute=n) for n in range(5)] + [outlet(9, LATER, hour=9)]
    first, second = run(archive), run(archive)
    assert [a.id for a in first] == [a.id for a in second] and len(first) == 2


def test_a_redelivered_article_gets_the_same_alerts_again() -> None:
    """Same ids, so delivery's dedupe stops them; the story does not count the article twice. The
    alerts are built again from the story record (as the Redis store does), so only the time they
    were alerted differs."""
    state = StoryState()
    t = outlet(1)
    first = run([t], state)
    assert len(first) == 1
    again = run([t], state)
    assert [a.model_dump(exclude={"times"}) for a in again] == [
        a.model_dump(exclude={"times"}) for a in first
    ]
    assert run([outlet(3)], state) == []  # another outlet's copy: no alert
    assert next(iter(state.stories.values())).articles == 2


def test_same_event_and_places_join_a_story_without_shared_text() -> None:
    a = tagged_from(
        "Shelling", "Russia shelled towns in Ukraine on Monday.", published="2026-11-20T08:00:00Z"
    )
    b = tagged_from(
        "Artillery",
        "Ukrainian officials said Russian artillery shelling hit a school, a bridge and a market.",
        published="2026-11-20T08:30:00Z",
    )
    state = StoryState()
    assert len(run([a], state)) == 1
    assert run([b], state) == []
    assert len(state.stories) == 1


def test_a_different_story_alerts_on_its_own() -> None:
    other = tagged_from(
        "Strike on Israel",
        "Iran launched ballistic missiles at Israel on Monday night, the army said.",
        published="2026-11-20T08:10:00Z",
    )
    alerts = run([outlet(1), other])
    assert len({a.story_id for a in alerts}) == 2


def test_after_the_window_the_story_can_alert_again() -> None:
    state = StoryState(Rules(window=timedelta(hours=1)))
    first = run([outlet(1, hour=8)], state)
    again = run([outlet(2, hour=8, minute=30)], state)
    late = run([outlet(3, hour=9, minute=45)], state)
    assert len(first) == 1 and again == [] and len(late) == 1
    assert late[0].id != first[0].id


def test_idle_stories_are_forgotten() -> None:
    state = StoryState(Rules(window=timedelta(hours=1)))
    run([outlet(1, hour=1)], state)
    run(
        [tagged_from("Other", "Markets were calm today.", published="2026-11-20T05:00:00Z")],
        state,
    )
    assert len(state.stories) == 1 and not any(s.alerted for s in state.stories.values())
