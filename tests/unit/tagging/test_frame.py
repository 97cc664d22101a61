"""Every candidate event carries a frame (asserted, current, literal, hostile) with its evidence;
one that fails is kept in `suppressed_events` and never alerts. The sentences are written here,
each axis in more than one wording."""

from __future__ import annotations

import pytest

from schemas import TaggedArticle
from services.alerts.core import StoryState, evaluate
from services.alerts.rules import load_rules
from services.common.settings import Settings
from services.offline.analyze import tagged_from
from services.text.taxonomy import load_taxonomy

NOW = "2026-11-20T08:00:00Z"


def _alerts(t: TaggedArticle) -> int:
    return len(evaluate(t, load_rules(Settings().rules_file), StoryState(), load_taxonomy()))


def _held(t: TaggedArticle) -> dict[str, str]:
    """axis -> label of the set-aside candidates' failed axes."""
    return {
        a: getattr(e.frame, a).label
        for e in t.suppressed_events
        if e.frame is not None
        for a in e.frame.failed
    }


def test_a_plain_report_passes_every_axis_with_a_frame_on_each_event() -> None:
    t = tagged_from(
        "Strike", "Rebel fighters shelled the army base outside the town on Tuesday.", published=NOW
    )
    assert t.events and all(e.frame is not None and e.frame.ok for e in t.events)
    assert t.genre == "news" and _alerts(t) > 0


@pytest.mark.parametrize(
    ("body", "axis", "label"),
    [
        # asserted: planned or foiled, in several wordings
        (
            "Police said the cell had plotted a car bomb attack on the station.",
            "asserted",
            "planned",
        ),
        (
            "A car bomb attack on the embassy was foiled by police.",
            "asserted",
            "planned",
        ),
        (
            "The commander warned that his missiles can hit every base in the region.",
            "asserted",
            "planned",
        ),
        # current: justice and history, active and passive, with and without a date
        (
            "A court convicted two men over the bombing of a bus that killed nine people.",
            "current",
            "justice",
        ),
        (
            "Three men were sentenced for the car bomb attack that killed four soldiers.",
            "current",
            "justice",
        ),
        (
            "Veterans gathered at the memorial to the soldiers killed in the ambush.",
            "current",
            "historical",
        ),
        (
            "The museum shows how the 1972 bombing of the port killed forty people.",
            "current",
            "historical",
        ),
        # literal: computing wording, fiction
        ("Spammers bombarded users with junk e-mail and pop-up adverts.", "literal", "metaphor"),
        ("In the novel, soldiers shell a village and kill its mayor.", "literal", "fiction"),
        # hostile: nature and accidents, whatever verb they borrow
        ("The tropical storm pounded the coast and killed twelve people.", "hostile", "disaster"),
        (
            "Officials said the explosion at the refinery killed three workers.",
            "hostile",
            "accident",
        ),
        (
            "Army engineers destroyed an unexploded wartime bomb found near the school.",
            "hostile",
            "accident",
        ),
    ],
)
def test_an_axis_that_fails_sets_the_event_aside_with_its_evidence(
    body: str, axis: str, label: str
) -> None:
    t = tagged_from("Report", body, published=NOW)
    assert _alerts(t) == 0, [e.type for e in t.events]
    assert _held(t).get(axis) == label, _held(t)
    held = next(e for e in t.suppressed_events if e.frame and axis in e.frame.failed)
    check = getattr(held.frame, axis)
    assert check.cue and not check.ok
    if check.start is not None:
        assert (
            t.article.text[check.start : check.start + len(check.cue)].lower() == check.cue.lower()
        )


def test_an_armed_actor_keeps_a_storm_word_hostile() -> None:
    t = tagged_from(
        "Raid", "Rebels stormed the police post and killed four officers.", published=NOW
    )
    assert _alerts(t) > 0 and all(e.frame and e.frame.hostile.ok for e in t.events)


def test_a_weapons_test_is_its_own_type_not_a_strike() -> None:
    t = tagged_from(
        "Launch",
        "The army said its new missile struck a target at sea during a test launch.",
        published=NOW,
    )
    types = {e.type for e in t.events}
    assert "missile-strike" not in types and "weapons-deployment" in types
    assert any(e.frame and e.frame.hostile.label == "test" for e in t.events)
    assert _alerts(t) > 0  # a test alerts as force posture, not as a strike


def test_a_rocket_that_kills_is_no_test_whatever_the_sentence_adds() -> None:
    t = tagged_from(
        "Market",
        "Rebels fired a rocket that struck a market and killed five, a day after a test launch.",
        published=NOW,
    )
    assert "missile-strike" in {e.type for e in t.events}


@pytest.mark.parametrize(
    ("title", "body", "genre"),
    [
        (
            "Film review: a war epic of the trenches",
            "The director shows soldiers shelling a village.",
            "review",
        ),
        (
            "League leaders crush rivals in derby",
            "The striker attacked down the wing and fired home.",
            "sport",
        ),
        (
            "Court acquits two over market bombing",
            "The judges freed both men accused of the bomb attack.",
            "justice",
        ),
        (
            "Fact check: viral clip of missile strike is from a video game",
            "The footage shows a missile hitting a tower.",
            "fact-check",
        ),
    ],
)
def test_the_genre_is_decided_once_and_narrows_what_alerts(
    title: str, body: str, genre: str
) -> None:
    t = tagged_from(title, body, published=NOW)
    assert t.genre == genre
    assert _alerts(t) == 0


def test_a_headline_with_an_armed_actor_is_news_whatever_else_it_says() -> None:
    t = tagged_from(
        "Militants attack football stadium",
        "Gunmen opened fire on the crowd, killing six.",
        published=NOW,
    )
    assert t.genre == "news" and _alerts(t) > 0


@pytest.mark.parametrize(
    ("body", "published", "alerts"),
    [
        ("Russian missiles hit Kharkiv 12 days ago, officials said.", NOW, False),
        ("Russian missiles hit Kharkiv on November 2, officials said.", NOW, False),
        ("Russian missiles hit Kharkiv on November 19, officials said.", NOW, True),
        ("Russian missiles hit Kharkiv in March 2024, officials said.", NOW, False),
        ("Russian missiles hit Kharkiv on Tuesday, officials said.", NOW, True),
    ],
)
def test_dates_near_the_trigger_are_read_against_the_publication_date(
    body: str, published: str, alerts: bool
) -> None:
    t = tagged_from("Kharkiv", body, published=published)
    assert (_alerts(t) > 0) is alerts, [(e.type, e.frame) for e in t.suppressed_events]


def test_an_event_named_as_the_background_of_another_story_is_not_current() -> None:
    for body in (
        "The president made his first trip abroad since the rocket attack on his convoy.",
        "Markets steadied in the wake of the bombing of the pipeline.",
    ):
        t = tagged_from("Trip", body, published=NOW)
        assert _alerts(t) == 0, body
        assert _held(t).get("current") == "historical", (body, _held(t))


def test_a_headline_about_someone_killed_is_news_whatever_their_trade() -> None:
    t = tagged_from(
        "Film director killed in Amsterdam",
        "Gunmen shot the director dead outside his home on Tuesday.",
        published=NOW,
    )
    assert t.genre == "news" and _alerts(t) > 0


def test_critical_is_kept_for_mass_casualties_and_nuclear_threats() -> None:
    from schemas import ScoreComponent
    from services.tagging.core import _severity

    small = [ScoreComponent(name="event", points=4.0, detail="bombing: «car bomb»")]
    assert _severity("critical", [], small, 4) == "high"
    assert _severity("critical", [], small, 25) == "critical"
    strategic = [*small, ScoreComponent(name="weapon", points=3.5, detail="strategic: «ICBM»")]
    assert _severity("critical", [], strategic, None) == "critical"
    nuclear = tagged_from("Doctrine", "Moscow threatened a nuclear strike on Kyiv.", published=NOW)
    assert any(e.type == "nuclear-threat" for e in nuclear.events)
    assert _severity("critical", nuclear.events, small, None) == "critical"
    assert _severity("medium", [], small, None) == "medium"


def test_a_threat_is_the_event_of_a_modal_type_not_a_plan_that_unasserts_it() -> None:
    t = tagged_from(
        "Warning",
        "The Kremlin warned it was ready to use tactical nuclear weapons against any intervention.",
        published=NOW,
    )
    assert "nuclear-threat" in {e.type for e in t.events}
    assert _alerts(t) > 0
