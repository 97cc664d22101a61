"""Dates and weekdays resolved against the publication time."""

from __future__ import annotations

import datetime as dt

import pytest

from services.enrichment.dates import time_mentions

WEDNESDAY = dt.datetime(2024, 11, 20, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "surface", "kind", "date"),
    [
        ("Missiles were fired on Tuesday.", "on Tuesday", "weekday", dt.date(2024, 11, 19)),
        ("Talks resume next Monday.", "next Monday", "weekday", dt.date(2024, 11, 25)),
        ("It happened last Wednesday.", "last Wednesday", "weekday", dt.date(2024, 11, 13)),
        ("They met on Wednesday.", "on Wednesday", "weekday", dt.date(2024, 11, 20)),
        ("Officials said yesterday.", "yesterday", "relative", dt.date(2024, 11, 19)),
        ("Signed on November 18.", "November 18", "date", dt.date(2024, 11, 18)),
        ("Signed on 12 November 2024.", "12 November 2024", "date", dt.date(2024, 11, 12)),
        ("Filed 2023-02-01 in court.", "2023-02-01", "date", dt.date(2023, 2, 1)),
        ("Expected by Dec. 30.", "Dec. 30", "date", dt.date(2024, 12, 30)),
        ("Since Jan 3 prices rose.", "Jan 3", "date", dt.date(2025, 1, 3)),
        ("It began in February 2022.", "February 2022", "month", dt.date(2022, 2, 1)),
        ("The war could end in 2025.", "2025", "year", None),
    ],
)
def test_resolution(text: str, surface: str, kind: str, date: dt.date | None) -> None:
    got = {(m.text, m.kind): m for m in time_mentions(text, WEDNESDAY)}
    m = got[(surface, kind)]
    assert m.date == date
    assert text[m.start : m.end] == surface


def test_without_publication_time_weekdays_stay_unresolved() -> None:
    (m,) = time_mentions("Strikes on Tuesday.", None)
    assert (m.kind, m.date) == ("weekday", None)


def test_modal_may_is_not_a_month() -> None:
    assert time_mentions("The strikes may continue.", WEDNESDAY) == []


def test_impossible_dates_are_kept_unresolved() -> None:
    (m,) = time_mentions("On February 30 nothing happened.", WEDNESDAY)
    assert m.date is None


def test_date_words_from_the_gazetteer_scan_are_the_dates_automaton_s() -> None:
    """enrich() passes the date words the gazetteer's automaton found: they must be those of
    the dates module's own automaton, and so must the mentions."""
    from services.enrichment import dates, gazetteer
    from tests.unit.enrichment.conftest import SEED, fixture_paths, load_fixture

    texts = [SEED.read_text(encoding="utf-8")] + [load_fixture(p)[0].body for p in fixture_paths()]
    texts.append("In March, May and mayday, on Monday's MONDAY today Today tomorrow Sept. 3 2024")
    published = dt.datetime(2024, 11, 20, 12, 0, tzinfo=dt.UTC)
    for text in texts:
        words = gazetteer.scan(text).dates
        assert sorted(words) == sorted(end - n + 1 for end, n in dates._words().iter(text))
        assert dates.time_mentions(text, published, words) == dates.time_mentions(text, published)
