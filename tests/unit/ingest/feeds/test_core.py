"""Feed parsing over fixtures in every supported dialect, bad encodings and broken XML."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ingest.feeds.core import parse_feed, strip_html
from tests.conftest import SHARED as _SHARED_DIR

CORPORA = _SHARED_DIR / "corpora"

FIXTURES = Path(__file__).parents[3] / "fixtures" / "feeds"
SHARED = CORPORA / "rss-fixtures"


def _parse(name: str):  # type: ignore[no-untyped-def]
    return parse_feed((FIXTURES / name).read_bytes(), f"http://feeds.test/{name}")


def test_rss2_content_is_preferred_and_html_stripped() -> None:
    feed = _parse("rss2.xml")
    assert feed.title == "Frontline Wire" and feed.malformed is None
    first, second = feed.articles
    assert first.title == "Missile strike hits fuel depot near Kharkiv"
    assert first.body.startswith("A ballistic missile strike hit a fuel depot near Kharkiv")
    assert "Two people were injured & fires" in first.body
    assert "<" not in first.body and "track()" not in first.body
    assert first.language == "en-gb"
    assert first.source == "http://feeds.test/rss2.xml"
    assert first.times.published == datetime(2024, 11, 19, 10, 0, tzinfo=UTC)
    assert second.times.published == datetime(2024, 11, 19, 10, 30, tzinfo=UTC)  # +0100 normalised


@pytest.mark.parametrize(
    ("name", "title", "language"),
    [
        ("atom.xml", "Drohnenangriff auf Odessa", "de"),
        ("rss1.rdf", "Shelling reported across the border", None),
        ("rss091.xml", "Ceasefire holds for a second day", "en"),
    ],
)
def test_each_dialect(name: str, title: str, language: str | None) -> None:
    feed = _parse(name)
    assert [a.title for a in feed.articles] == [title]
    assert feed.articles[0].language == language
    assert feed.articles[0].url


def test_undeclared_latin1_is_decoded() -> None:
    feed = _parse("latin1-undeclared.rss")
    assert feed.articles[0].title == "Ataque de mísseis em Kiev"
    assert "polícia" in feed.articles[0].body


def test_malformed_xml_still_yields_entries_and_says_why() -> None:
    feed = _parse("malformed.xml")
    assert feed.malformed and "not well-formed" in feed.malformed
    assert [a.title for a in feed.articles] == ["Artillery fire near Bakhmut", "Second story"]


def test_garbage_gives_no_articles_and_a_reason() -> None:
    feed = _parse("garbage.txt")
    assert feed.articles == [] and feed.malformed


def test_same_entry_same_id_across_fetches() -> None:
    assert [a.id for a in _parse("rss2.xml").articles] == [
        a.id for a in _parse("rss2.xml").articles
    ]


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/corpora/rss-fixtures is absent")
def test_real_feeds_parse() -> None:
    counts = {
        p.name: len(parse_feed(p.read_bytes(), p.name).articles) for p in SHARED.glob("*.*[sm]")
    }
    assert counts["guardian.rss"] == 55 and counts["heise.atom"] == 15
    assert counts["uolNoticias.rss"] == 15 and counts["rss-1.rss"] == 69


def test_strip_html_blocks_and_entities() -> None:
    assert strip_html("<p>a &amp; b</p><p>c<br>d</p>") == "a & b\n\nc\nd"
    assert strip_html("<style>x{}</style>plain") == "plain"


@given(st.text(max_size=300))
def test_strip_html_never_raises_and_leaves_no_tags(text: str) -> None:
    out = strip_html(f"<div>{text}</div>")
    assert "<div>" not in out
