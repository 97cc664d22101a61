"""Quantities, unit normalisation and casualty counts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.enrichment.numbers import casualties, parse_number, quantities


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,000", 1000), ("3.5", 3.5), ("twenty-five", 25), ("eight", 8), ("a dozen", 12)],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == value


@given(st.integers(min_value=0, max_value=10**12))
def test_parse_number_round_trips_grouped_digits(n: int) -> None:
    assert parse_number(f"{n:,}") == n


@pytest.mark.parametrize(
    ("text", "surface", "value", "unit", "normalized"),
    [
        ("It flew approximately 70 miles east.", "approximately 70 miles", 70, "km", 112.654),
        ("A 15-pound turkey.", "15-pound", 15, "kg", 6.804),
        ("Prices rose 5 percent.", "5 percent", 5, "%", 5),
        ("The deal is worth $1.5 billion in total.", "$1.5 billion", 1.5e9, "USD", 1.5e9),
        ("It lasted three hours.", "three hours", 3, "s", 10800),
    ],
)
def test_units_are_normalised(
    text: str, surface: str, value: float, unit: str, normalized: float
) -> None:
    (q,) = [q for q in quantities(text, []) if q.text == surface]
    assert (q.value, q.normalized_unit) == (value, unit)
    assert q.normalized_value == pytest.approx(normalized, rel=1e-3)
    assert text[q.start : q.end] == surface


def test_counted_nouns_and_out_of() -> None:
    text = "They fired eight missiles and three ballistic missiles; five out of eight were downed."
    got = {q.text: q for q in quantities(text, [])}
    assert got["eight missiles"].counted == "missiles"
    assert got["three ballistic missiles"].counted == "ballistic missiles"
    assert got["five out of eight"].out_of == 8


def test_word_numbers_need_something_to_count_and_years_are_not_quantities() -> None:
    text = "One of the officials said no one knew. In 2024 the war went on."
    assert quantities(text, []) == []


def test_spans_taken_by_dates_are_skipped() -> None:
    text = "On November 19 they fired 8 missiles."
    start = text.index("November")
    got = quantities(text, [(start, start + len("November 19"))])
    assert [q.text for q in got] == ["8 missiles"]


@pytest.mark.parametrize(
    ("text", "kind", "count"),
    [
        ("Air strikes killed 14 people overnight.", "killed", 14),
        ("At least 23 soldiers were killed in the attack.", "killed", 23),
        ("Another 75 people were wounded.", "injured", 75),
        ("The death toll rose to 112 on Sunday.", "killed", 112),
        ("The blast injured twelve workers.", "injured", 12),
        ("Five fishermen are missing.", "missing", 5),
    ],
)
def test_casualties(text: str, kind: str, count: int) -> None:
    (c,) = casualties(text)
    assert (c.kind, c.count) == (kind, count)
    assert text[c.start : c.end] == c.text


def test_no_casualties_without_a_count() -> None:
    assert casualties("The strikes resulted in casualties and killed hopes of a deal.") == []


@pytest.mark.parametrize(
    "text",
    [
        "Five people were KILLED and 12 Injured; the death toll rose. Overkill, undead, "
        "kill-zone, _killed, 3killed, hostages, prisoners, displaced, hurt, Missing, captured.",
        "Straßen: KİLLED and kılled and miſsing people; 4 dead.",
        "killkill died wounded WOUNDING death  toll death toll",
        "",
    ],
)
def test_casualty_triggers_are_the_regex_matches(text: str) -> None:
    from services.enrichment.numbers import _CASUALTY_TRIGGER, _triggers

    low = None if any(c in text for c in "\u0130\u0131\u017f") else text.lower()
    assert _triggers(text, low) == [m.span() for m in _CASUALTY_TRIGGER.finditer(text)]


_TRIGGER_PIECES = [
    *("kill", "KILL", "Dead", "died", "injur", "wound", "hurt", "missing", "captured"),
    *("prisoner", "displaced", "hostage", "death toll", "Death Toll", "death", "toll"),
    *(" ", "  ", "_", "-", "3", "x", "é", "K", "\u212a", "\u0130", "\u0131", "\u017f", "\n", "."),
]


@given(st.lists(st.sampled_from(_TRIGGER_PIECES), max_size=20))
def test_casualty_triggers_on_random_mixes(pieces: list[str]) -> None:
    from services.enrichment.numbers import _CASUALTY_TRIGGER, _triggers

    text = "".join(pieces)
    low = None if any(c in text for c in "\u0130\u0131\u017f") else text.lower()
    assert _triggers(text, low) == [m.span() for m in _CASUALTY_TRIGGER.finditer(text)]


_QUAL_PIECES = [
    *("about", "About", "ABOUT", "more than", "More  than", "over", "just over", "moreover"),
    *("approx.", "approx", "an estimated", "estimated", "at least", "up to", "some", "awesome"),
    *(" ", "  ", "\n", "\t", "(", "_", "-", "3", "x", "é", "\u212a"),
]


@given(st.lists(st.sampled_from(_QUAL_PIECES), max_size=12))
def test_qualifier_before_a_number_is_the_regex_match(pieces: list[str]) -> None:
    from services.enrichment.numbers import _QUAL_BEFORE, _qual_before

    text = "".join(pieces) + "5"
    for hi in range(len(text) + 1):
        lo = max(0, hi - 24)
        q = _QUAL_BEFORE.search(text, lo, hi)
        assert _qual_before(text, lo, hi) == (q.span("qual") if q else None)


_WINDOW_PIECES = [
    *("killed", "KILLED", "killing", "Wounded", "injured", "were", "have been", "reportedly"),
    *("death toll", "rose to", "at least", "about", "some", "awesome", "moreover", "over"),
    *("twenty-five", "Twenty", "one", "someone", "a dozen", "dozens", "1,200", "3", "45.5"),
    *("people", "soldiers", "men", "civilians", "dead", "missing", "hostage", "taken hostage"),
    *(" ", " ", " ", "  ", "\n", ",", ".", "_", "-", "x", "é", "\u0131", "\u212a", "\u0663"),
]


@given(st.lists(st.sampled_from(_WINDOW_PIECES), max_size=30))
def test_casualty_window_matches_are_the_regex_matches(pieces: list[str]) -> None:
    from services.enrichment.numbers import _CASUALTY, _window_matches

    text = "".join(pieces)
    low = None if any(c in text for c in "\u0130\u0131\u017f") else text.lower()
    for lo, hi in ((0, len(text)), (len(text) // 3, len(text)), (2, max(2, len(text) - 5))):
        want = [m.span() for m in _CASUALTY.finditer(text, lo, hi)]
        assert [m.span() for m in _window_matches(text, low, lo, hi)] == want
