"""Independent origins (services/alerts/origins.py): copies are one source, and the count is
bounded and survives the story record."""

from __future__ import annotations

import pytest

from services.alerts.origins import MAX_ORIGINS, Origin, count_in, publisher_of, wire_of
from services.alerts.rules import RuleError, parse_rules
from services.alerts.stories import StoryView, signature_of
from services.offline.analyze import tagged_from

WIRE = (
    "Russian missile hits Kharkiv offices",
    "KHARKIV, Ukraine (Reuters) - A Russian missile struck an office building in central "
    "Kharkiv on Tuesday, killing three people, the regional governor said.",
)


@pytest.mark.parametrize(
    ("body", "wire"),
    [
        ("KYIV, Ukraine (Reuters) - A missile hit ...", "reuters"),
        ("KYIV, Ukraine (AP) — A missile hit ...", "ap"),
        ("A missile hit the port overnight, the navy said. — AFP", "afp"),
        ("AFP - A missile hit the port overnight.", "afp"),
        ("ODESA (Agence France-Presse) - Drones hit the port.", "afp"),
        ("A missile hit the port, Reuters reported, citing the navy.", None),
        ("Officials in Kyiv (a city of three million) said a missile hit.", None),
        ("The AP was not allowed in - officials said.", None),
    ],
)
def test_wire_bylines(body: str, wire: str | None) -> None:
    assert wire_of(body) == wire


def test_one_publisher_one_origin() -> None:
    assert publisher_of("https://www.kyivdesk.example/a?utm_source=x") == "kyivdesk.example"
    assert publisher_of("https://kyivdesk.example/b") == "kyivdesk.example"
    assert publisher_of(None) is None


def story_of(*arts: tuple[str, str, str]) -> StoryView:
    sigs = [
        signature_of(tagged_from(t, b, url=u, published=f"2026-11-24T07:{n:02d}:00Z"))
        for n, (t, b, u) in enumerate(arts)
    ]
    story = StoryView.open(sigs[0])
    for s in sigs[1:]:
        story.join(s)
    return story


def test_a_wire_reprinted_by_outlets_is_one_origin_an_own_report_another() -> None:
    reprints = [(WIRE[0], WIRE[1], f"https://outlet{n}.example/kharkiv") for n in range(5)]
    story = story_of(*reprints)
    assert (story.articles, story.origins) == (5, 1)
    own = (
        "Kharkiv office block hit, three dead",
        "Our correspondent in Kharkiv saw smoke over Sumska street after a missile strike on "
        "Tuesday; three people were killed, the mayor said.",
        "https://kyivdesk.example/kharkiv",
    )
    assert story_of(*reprints, own).origins == 2


def test_a_near_identical_copy_without_byline_is_the_same_origin() -> None:
    body = WIRE[1].replace(" (Reuters) -", "")
    own = (WIRE[0], body, "https://kyivdesk.example/k")
    copy = ("Missile hits offices in Kharkiv", body, "https://aggregator.example/r/1")
    other = (
        "Kharkiv: three dead",
        "Three people died in Kharkiv when a missile hit offices, rescuers said on Tuesday.",
        "https://third.example/k",
    )
    assert story_of(own, copy).origins == 1
    assert story_of(own, copy, other).origins == 2


def test_the_marks_are_bounded_and_survive_the_record() -> None:
    marks: list[Origin] = []
    count = 0
    for n in range(MAX_ORIGINS + 5):
        marks, count = count_in(marks, count, Origin(n, (n * 1000 + 1, n * 1000 + 2)))
    assert (len(marks), count) == (MAX_ORIGINS, MAX_ORIGINS + 5)
    marks, again = count_in(marks, count, Origin(3, ()))  # a kept publisher: not counted again
    assert again == count
    simhash = Origin(7, (0xFFFF_0000_FFFF_0000,))
    assert Origin.decode(simhash.encode()) == simhash
    story = story_of((WIRE[0], WIRE[1], "https://a.example/1"))
    back = StoryView.from_record(
        type(story.to_record()).model_validate_json(story.to_record().encode())
    )
    assert (
        (back.origins, back.origin_marks)
        == (story.origins, story.origin_marks)
        == (1, story.origin_marks)
    )
    assert len(story.origin_marks) == 1


def test_min_origins_is_validated_with_file_and_line() -> None:
    text = (
        "rules:\n"
        "  - id: corroborated\n"
        "    description: two sources\n"
        "    severity: high\n"
        "    events: [missile_strike]\n"
        "    min_origins: 0\n"
    )
    with pytest.raises(RuleError) as err:
        parse_rules(text, "r.yaml", frozenset({"missile_strike"}))
    assert "r.yaml:6" in str(err.value) and "min_origins" in str(err.value)
    ok = parse_rules(
        text.replace("min_origins: 0", "min_origins: 2"), "r.yaml", frozenset({"missile_strike"})
    )
    assert ok[0].spec.min_origins == 2
