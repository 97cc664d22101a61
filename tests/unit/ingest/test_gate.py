"""One gate for every input path: the raw contract's caps and cleaning, and `checker`'s rules,
applied alike to HTTP bodies, replayed files and feed entries (issue 27)."""

from __future__ import annotations

import gzip
import json
import re
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from schemas.raw import MAX_BODY, MAX_LANGUAGE, MAX_SOURCE, MAX_TITLE, MAX_URL
from services.common.settings import Settings
from services.ingest.archive import MAX_LINE, items_of_archive_file, read_archive
from services.ingest.feeds.core import feed_source, parse_feed
from services.ingest.http import Batch, parse_body
from services.ingest.parse import ArticleError, checker, from_mapping

SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]
OK = {"title": "Strike", "body": "A missile strike."}


def _gate(**fields: Any) -> None:
    checker(SETTINGS)(from_mapping({**OK, **fields}))


@pytest.mark.parametrize(
    ("name", "cap"),
    [
        ("title", MAX_TITLE),
        ("body", MAX_BODY),
        ("url", MAX_URL),
        ("source", MAX_SOURCE),
        ("language", MAX_LANGUAGE),
    ],
)
def test_every_field_has_a_cap(name: str, cap: int) -> None:
    value = ("https://example.org/" + "a" * cap) if name == "url" else "a" * (cap + 1)
    with pytest.raises(ArticleError, match=rf"{name}: String should have at most {cap} char"):
        from_mapping({**OK, name: value})


def test_source_and_language_of_900_kb_are_refused() -> None:
    """The finding: both took 900 KB."""
    for name in ("source", "language"):
        with pytest.raises(ArticleError, match=name):
            from_mapping({**OK, name: "x" * 900_000})


@pytest.mark.parametrize(
    "hidden", ["\u202e", "\u202a", "\u2066", "\u2069", "\u200b", "\u200d", "\u200f", "\ufeff"]
)
def test_bidi_and_zero_width_characters_leave_titles_and_sources(hidden: str) -> None:
    a = from_mapping({**OK, "title": f"Str{hidden}ike", "source": f"Reu{hidden}ters"})
    assert (a.title, a.source) == ("Strike", "Reuters")
    assert a.id == from_mapping(OK | {"source": "Reuters"}).id  # the id of the clean text


def test_a_title_of_only_invisible_characters_is_empty() -> None:
    with pytest.raises(ArticleError, match="title"):
        from_mapping({**OK, "title": "\u200b\u202e"})


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"title": "nul\x00"}, "title: control character U+0000"),
        ({"url": "javascript:alert(1)"}, "url: must be an absolute http(s) URL"),
        ({"url": "data:text/html,x"}, "url: must be an absolute http(s) URL"),
        ({"published_at": "1979-12-31T23:59:59Z"}, "before 1980-01-01"),
        ({"published_at": "1900-01-01T00:00:00Z"}, "before 1980-01-01"),
        ({"published_at": "1970-01-01T00:00:00Z"}, "before 1980-01-01"),
        ({"published_at": "2090-01-01T00:00:00Z"}, "in the future"),
    ],
)
def test_checker_rules(fields: dict[str, str], says: str) -> None:
    with pytest.raises(ArticleError, match=re.escape(says)):
        _gate(**fields)


def test_not_before_is_a_setting_for_older_archives() -> None:
    reuters = from_mapping({**OK, "published_at": "1987-02-26T15:01:01Z"})
    assert checker(SETTINGS)(reuters) is reuters  # the archives analysts replay pass as they are
    older = SETTINGS.model_copy(update={"ingest_not_before": datetime(1960, 1, 1, tzinfo=UTC)})
    a = from_mapping({**OK, "published_at": "1968-02-26T15:01:01Z"})
    assert checker(older)(a) is a
    with pytest.raises(ArticleError, match="before 1980"):
        checker(SETTINGS)(a)


def test_a_4301_digit_integer_is_a_400_not_a_500() -> None:
    out = parse_body(b'{"title": "t", "body": ' + b"9" * 4301 + b"}", SETTINGS)
    assert isinstance(out, web.Response) and out.status == 400
    assert out.text is not None and "invalid JSON" in out.text


def test_parse_body_partial_keeps_the_valid_items() -> None:
    raw = json.dumps([OK, {**OK, "url": "javascript:x"}]).encode()
    refused = parse_body(raw, SETTINGS)
    assert isinstance(refused, web.Response) and refused.status == 422
    batch = parse_body(raw, SETTINGS, partial=True)
    assert isinstance(batch, Batch)
    assert [i for i, _ in batch.good] == [0] and batch.bad[0]["index"] == 1


# ---- replay: the same gate, streamed and capped reading ---------------------------------------


def test_replay_lines_get_the_http_rules(tmp_path: Path) -> None:
    """Replay took NUL characters, `javascript:` links and dates in 1900 and 2090."""
    rows = [
        {**OK, "title": "nul \x00"},
        {**OK, "url": "javascript:alert(1)"},
        {**OK, "published_at": "1900-01-01T00:00:00Z"},
        {**OK, "published_at": "2090-01-01T00:00:00Z"},
        OK,
    ]
    f = tmp_path / "a.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows))
    check = checker(SETTINGS)
    verdicts = []
    for item in items_of_archive_file(f):
        try:
            verdicts.append(bool(item.article and check(item.article)))
        except ArticleError:
            verdicts.append(False)
    assert verdicts == [False, False, False, False, True]


def test_gzip_bomb_is_cut_at_the_cap_with_bounded_memory(tmp_path: Path) -> None:
    """208 KB of gzip once took +604 MB: now reading stops at the cap, memory stays small."""
    f = tmp_path / "bomb.json.gz"
    f.write_bytes(gzip.compress(b"[" + b" " * (64 * 1024 * 1024) + b"]", compresslevel=9))
    assert f.stat().st_size < 200_000
    tracemalloc.start()
    items = list(items_of_archive_file(f, max_bytes=4 * 1024 * 1024))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [(i.article, i.error) for i in items] == [
        (None, "cannot read: more than 4194304 bytes (NEWSWIRE_REPLAY_MAX_FILE_BYTES)")
    ]
    assert peak < 32 * 1024 * 1024, peak


def test_jsonl_gz_is_streamed_not_decompressed_whole(tmp_path: Path) -> None:
    line = json.dumps({"title": "Strike", "body": "x" * 1000}) + "\n"
    f = tmp_path / "many.jsonl.gz"
    f.write_bytes(gzip.compress((line * 20_000).encode()))  # 20 MB decompressed
    tracemalloc.start()
    count = sum(1 for item, _ in read_archive([f]) if item.article)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 20_000
    assert peak < 8 * 1024 * 1024, peak


def test_one_over_long_csv_field_skips_its_line_only(tmp_path: Path) -> None:
    """One field over the csv module's limit aborted the whole replay."""
    f = tmp_path / "t.csv"
    f.write_text("title,body\nFirst,One.\nHuge," + "x" * 200_000 + "\nThird,Three.\nFourth,Four.\n")
    items = list(items_of_archive_file(f))
    assert [i.article.title for i in items if i.article] == ["First", "Third", "Fourth"]
    bad = [i for i in items if i.article is None]
    assert [(i.line, i.error) for i in bad] == [
        (3, "unreadable row: field larger than field limit (131072)")
    ]


def test_deeply_nested_jsonl_line_is_one_bad_line(tmp_path: Path) -> None:
    f = tmp_path / "n.jsonl"
    f.write_text("[" * 100_000 + "\n" + json.dumps(OK) + "\n" + '{"title": 1' + "9" * 4301 + "}\n")
    items = list(items_of_archive_file(f))
    assert [(i.line, i.article is not None) for i in items] == [(1, False), (2, True), (3, False)]


# ---- feeds: entries through the same gate; sources without keys -------------------------------

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>Good one</title><link>https://example.org/1</link><description>Fine.</description>
<pubDate>{now}</pubDate></item>
<item><title>Script link</title><link>javascript:alert(1)</link><description>x</description></item>
<item><title>Old</title><link>https://example.org/3</link><description>x</description>
<pubDate>Mon, 01 Jan 1900 00:00:00 GMT</pubDate></item>
<item><title>Future</title><link>https://example.org/4</link><description>x</description>
<pubDate>Sun, 01 Jan 2090 00:00:00 GMT</pubDate></item>
<item><title>Hidden &#8238;txt.exe</title><link>https://example.org/5</link><description>x</description></item>
</channel></rss>"""


def test_feed_entries_get_the_http_rules() -> None:
    now = (datetime.now(UTC) - timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    url = "https://feeds.test/rss?api_key=SECRET123&x=1"
    feed = parse_feed(FEED.format(now=now).encode(), url, check=checker(SETTINGS))
    assert [a.title for a in feed.articles] == ["Good one", "Hidden txt.exe"]
    assert [p.split(":")[0] for p in feed.problems] == ["entry 2", "entry 3", "entry 4"]
    assert all("SECRET123" not in (a.source or "") for a in feed.articles)
    assert feed.articles[0].source == "https://feeds.test/rss"


def test_feed_source_drops_user_info_query_and_fragment() -> None:
    assert (
        feed_source("https://u:pw@feeds.test:8443/a/rss?key=k#f") == "https://feeds.test:8443/a/rss"
    )
    assert len(feed_source("https://feeds.test/" + "a" * 500)) == MAX_SOURCE


def test_an_over_long_jsonl_line_is_skipped_with_bounded_memory(tmp_path: Path) -> None:
    """One 64 MB line (a gzip bomb of spaces) is read past in pieces and reported by number."""
    f = tmp_path / "long.jsonl.gz"
    payload = json.dumps(OK) + "\n" + " " * (64 * 1024 * 1024) + "\n" + json.dumps(OK) + "\n"
    f.write_bytes(gzip.compress(payload.encode(), compresslevel=9))
    tracemalloc.start()
    items = list(items_of_archive_file(f))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [(i.line, i.error) for i in items] == [
        (1, None),
        (2, f"line longer than {MAX_LINE} characters"),
        (3, None),
    ]
    assert peak < 40 * 1024 * 1024, peak
