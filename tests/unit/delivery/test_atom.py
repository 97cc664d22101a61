"""Atom feeds: valid for a real parser (feedparser) and against RFC 4287's required elements."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import feedparser

from schemas import Match
from services.delivery.atom import (
    ATOM_NS,
    authorised,
    etag,
    feed_token,
    feed_url,
    last_modified,
    not_modified,
    render_feed,
)
from services.delivery.render import sample_alert
from tests.factories import make_alert

A = f"{{{ATOM_NS}}}"
T0 = datetime(2025, 3, 2, 14, 5, tzinfo=UTC)


def _entries() -> list[tuple[datetime, object]]:
    hostile = make_alert(
        title="Shelling <b>&</b> \x1b fire",  # markup and a control character in the title
        matches=[Match(term="shelling", sentence="Shelling hit <Kherson> & more.", start=0, end=8)],
        severity="critical",
    )
    return [(T0 + timedelta(minutes=1), hostile), (T0, sample_alert())]


def rfc4287_problems(xml: bytes) -> list[str]:
    """RFC 4287 4.1.1 / 4.1.2: the elements a feed and each entry MUST contain (exactly once)."""
    root = ET.fromstring(xml)
    err = []
    if root.tag != A + "feed":
        return ["root is atom:feed"]
    for tag in ("id", "title", "updated"):
        if len(root.findall(A + tag)) != 1:
            err.append(f"feed: exactly one atom:{tag}")
    entries = root.findall(A + "entry")
    feed_author = root.find(A + "author")
    if feed_author is None and any(e.find(A + "author") is None for e in entries):
        err.append("feed: atom:author, or one in every entry")
    if feed_author is not None and not (feed_author.findtext(A + "name") or "").strip():
        err.append("author: atom:name")
    for i, e in enumerate(entries):
        for tag in ("id", "title", "updated"):
            if len(e.findall(A + tag)) != 1:
                err.append(f"entry {i}: exactly one atom:{tag}")
        alternate = [
            lk for lk in e.findall(A + "link") if lk.get("rel", "alternate") == "alternate"
        ]
        if e.find(A + "content") is None and not alternate:
            err.append(f"entry {i}: atom:content or an alternate link")
        for stamp in (
            e.findtext(A + "updated") or "",
            e.findtext(A + "published") or "2000-01-01T00:00:00Z",
        ):
            try:
                datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            except ValueError:
                err.append(f"entry {i}: {stamp!r} is not an RFC 3339 date")
    return err


def test_feed_is_valid_atom_with_one_entry_per_alert() -> None:
    entries = _entries()
    body = render_feed(
        entries,
        feed="desk",
        title="newswire: desk",
        self_url="http://d/feeds/subscriptions/desk.atom",
        dashboard="http://d",
    )
    assert rfc4287_problems(body) == []
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.id == "urn:newswire:feed:desk"
    assert parsed.feed.updated == "2025-03-02T14:06:00Z"  # the newest entry
    ids = [e.id for e in parsed.entries]
    assert ids == [f"urn:newswire:alert:{a.id}" for _, a in entries]  # type: ignore[attr-defined]
    crit, high = parsed.entries
    assert crit.title.startswith("[CRITICAL] Shelling <b>&</b>")  # text, not markup
    assert {t.term for t in crit.tags} >= {"critical", "missile-strike", "UA"}
    assert "Shelling hit &lt;Kherson&gt; &amp; more." in crit.content[0].value
    assert high.published == entries[1][1].times.published.isoformat(timespec="seconds").replace(
        "+00:00", "Z"
    )  # type: ignore[attr-defined]
    assert high.link == "https://example.org/news/kharkiv-depot"
    assert "http://d/#alert=" in high.content[0].value and "Kharkiv" in high.content[0].value
    # stable: the same alerts give the same ids and the same bytes
    again = render_feed(
        entries,
        feed="desk",
        title="newswire: desk",
        self_url="http://d/feeds/subscriptions/desk.atom",
        dashboard="http://d",
    )
    assert again == body and etag(again) == etag(body)


def test_empty_feed_is_valid_too() -> None:
    body = render_feed(
        [], feed="all", title="all", self_url="http://d/feeds/all.atom", dashboard="http://d"
    )
    assert rfc4287_problems(body) == []
    assert not feedparser.parse(body).bozo


def test_conditional_get() -> None:
    entries = _entries()
    tag = etag(b"x")
    lm = last_modified(entries)  # type: ignore[arg-type]
    assert lm == "Sun, 02 Mar 2025 14:06:00 GMT"
    assert not_modified({"If-None-Match": tag}, tag, lm)
    assert not_modified({"If-None-Match": f'"other", W/{tag}'}, tag, lm)
    assert not not_modified(
        {"If-None-Match": '"other"', "If-Modified-Since": lm}, tag, lm
    )  # ETag decides
    assert not_modified({"If-Modified-Since": lm}, tag, lm)
    assert not_modified({"If-Modified-Since": "Sun, 02 Mar 2025 15:00:00 GMT"}, tag, lm)
    assert not not_modified({"If-Modified-Since": "Sun, 02 Mar 2025 14:05:59 GMT"}, tag, lm)
    assert not not_modified({"If-Modified-Since": "yesterday"}, tag, lm)
    assert not not_modified({}, tag, lm)


def test_feed_tokens() -> None:
    assert authorised(None, "desk", None, None)
    tok = feed_token("s3cret", "desk")
    assert len(tok) == 32 and "s3cret" not in tok and tok != feed_token("s3cret", "other")
    assert authorised("s3cret", "desk", None, tok)
    assert authorised("s3cret", "desk", "Bearer s3cret", None)
    assert not authorised("s3cret", "other", None, tok)  # a feed token opens its own feed only
    assert not authorised("s3cret", "desk", "Bearer wrong", "nope")
    assert not authorised("s3cret", "desk", None, None)
    assert (
        feed_url("http://d/", "desk", "s3cret")
        == f"http://d/feeds/subscriptions/desk.atom?token={tok}"
    )
    assert feed_url("http://d", "all", None) == "http://d/feeds/all.atom"
