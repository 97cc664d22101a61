"""Story identity: distinct events from one template stay apart, copies and updates merge."""

from __future__ import annotations

from schemas import Alert, Story, TaggedArticle
from services.alerts.core import StoryState, evaluate
from services.alerts.stories import StoryView, signature_of
from services.offline.analyze import tagged_from
from tests.unit.alerts.test_evaluate import RULES

CITIES = [
    "Kharkiv", "Odesa", "Dnipro", "Zaporizhzhia", "Sumy", "Poltava", "Chernihiv", "Mykolaiv",
    "Kherson", "Lviv", "Kremenchuk", "Mariupol", "Kramatorsk", "Kropyvnytskyi", "Cherkasy",
    "Zhytomyr", "Rivne", "Ternopil", "Lutsk", "Uzhhorod",
]  # fmt: skip
WEAPONS = {"missile": "A Russian missile", "drone": "A swarm of Russian attack drones"}


def template(city: str, weapon: str, dead: int, minute: int) -> TaggedArticle:
    return tagged_from(
        f"{WEAPONS[weapon].split(' ', 1)[1].capitalize()} hit {city}, {dead} dead",
        f"{WEAPONS[weapon]} struck an apartment block in {city} early on Monday, killing {dead} "
        f"people and wounding dozens, the regional governor said. Rescue crews were still "
        f"searching the rubble at dawn.",
        url=f"https://wire.example/{city}/{weapon}",
        published=f"2026-11-23T06:{minute:02d}:00Z",
    )


def run(articles: list[TaggedArticle], state: StoryState) -> list[Alert]:
    return [a for t in articles for a in evaluate(t, RULES, state)]


def test_forty_strikes_from_one_template_all_alert() -> None:
    arts = [
        template(city, weapon, 3 + i, (2 * i + j) % 60)
        for i, city in enumerate(CITIES)
        for j, weapon in enumerate(WEAPONS)
    ]
    state = StoryState()
    alerts = run(arts, state)
    assert len(state.stories) == 40
    assert len({a.story_id for a in alerts}) == 40
    by_city = {a.event_location.name for a in alerts if a.event_location}
    assert len(by_city) == len(CITIES)  # (the gazetteer spells a few its own way)
    assert all(a.countries == ["UA"] for a in alerts)


OUTLETS = [
    (
        "Missile strike on Dnipro apartment block kills 4",
        "A Russian missile hit a nine-storey apartment block in Dnipro on Monday morning, killing "
        "four people, regional officials said.",
    ),
    (
        "Four dead as missile hits Dnipro housing",
        "Four residents were killed when a missile slammed into a residential building in Dnipro "
        "on Monday, the city's mayor said.",
    ),
    (
        "Dnipro: missile attack on homes",
        "Russia struck Dnipro with a missile on Monday; the strike on a block of flats killed four, "
        "according to emergency services.",
    ),
    (
        "Russian missile kills four in Dnipro",
        "At least four people died in Dnipro after a Russian missile strike destroyed part of an "
        "apartment building on Monday, Ukrainian authorities reported.",
    ),
    (
        "Deadly strike in Dnipro",
        "Monday's missile strike on Dnipro left four people dead in a residential block, the "
        "regional governor wrote on Telegram.",
    ),
    (
        "Dnipro hit by missile",
        "A missile struck a residential area of Dnipro on Monday, killing four, officials said.",
    ),
]
UPDATE = (
    "Dnipro missile strike toll rises to 41",
    "Monday's Russian missile strike on an apartment block in Dnipro has killed 41 people, "
    "officials said in the evening as rescuers pulled more bodies from the rubble.",
)


def test_six_outlets_one_alert_and_one_more_when_the_toll_rises_a_band() -> None:
    state = StoryState()
    arts = [
        tagged_from(t, b, url=f"https://o{n}.example/x", published=f"2026-11-23T07:{n:02d}:00Z")
        for n, (t, b) in enumerate(OUTLETS)
    ]
    first = run(arts, state)
    assert len({a.story_id for a in first}) == 1
    assert len({a.rule_id for a in first}) == len(first)  # one alert per rule
    assert len(state.stories) == 1
    later = run(
        [tagged_from(*UPDATE, url="https://o9.example/y", published="2026-11-23T11:00:00Z")],
        state,
    )
    rises = {a.rule_id: (a.previous_severity, a.severity) for a in later}
    assert rises["missile-strike"] == ("high", "critical")  # the same rule: one band up
    assert {a.story_id for a in later} == {first[0].story_id}


def test_a_story_record_round_trips() -> None:
    sig = signature_of(template("Kharkiv", "missile", 5, 1))
    story = StoryView.open(sig)
    assert StoryView.from_record(Story.model_validate_json(story.to_record().encode())) == story


def test_analyze_independent_judges_each_article_alone() -> None:
    import json

    from click.testing import CliRunner

    from services.cli import main

    lines = "\n".join(
        json.dumps({"title": t, "body": b, "url": f"https://o{n}.example/x"})
        for n, (t, b) in enumerate(OUTLETS[:3])
    )
    together = CliRunner().invoke(main, ["analyze", "-"], input=lines)
    alone = CliRunner().invoke(main, ["analyze", "--independent", "-"], input=lines)
    assert together.exit_code == 0 and alone.exit_code == 0, alone.output
    count = [
        [len(json.loads(line)["alerts"]) for line in r.output.splitlines()]
        for r in (together, alone)
    ]
    assert count[0][1:] == [0, 0] and all(n > 0 for n in count[1])


def test_subscribe_prints_one_line_per_story_update() -> None:
    from services.cli.subscribe import format_story_update, same_update
    from tests.factories import make_alert

    a = make_alert(rule_id="missile-strike", severity="high", story_id="s1", article_id="a1")
    b = make_alert(
        rule_id="mass-casualties",
        severity="critical",
        previous_severity="high",
        story_id="s1",
        article_id="a1",
        story_articles=7,
    )
    assert same_update(a, b) and not same_update(a, make_alert(story_id="s2"))
    line = format_story_update([a, b])
    assert "\n" not in line and "[CRITICAL] (was high) story s1" in line
    assert "mass-casualties,missile-strike" in line and "7 article(s)" in line
