"""Pure feed parsing: bytes of an RSS 0.9x/1.0/2.0 or Atom document -> articles, HTML stripped."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import feedparser

from schemas import RawArticle
from schemas.raw import MAX_LANGUAGE, MAX_SOURCE
from services.ingest.parse import ArticleError, Check, from_mapping
from services.text.clean import strip_html as _strip_tags

_WS = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def strip_html(text: str) -> str:
    """Plain text of an HTML fragment (enrichment's stripper), whitespace tidied for a feed entry."""
    lines = (_WS.sub(" ", line).strip() for line in _strip_tags(text).split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def feed_source(url: str) -> str:
    """The `source` of a feed's articles: its URL without user info, query or fragment (where
    API keys travel), within the contract's cap."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))[:MAX_SOURCE]


@dataclass(frozen=True)
class ParsedFeed:
    """What one fetch of a feed gave: articles, per-entry problems, and whether the XML was broken."""

    title: str | None
    articles: list[RawArticle] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    malformed: str | None = None


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
    return None


def _body(entry: Any) -> str:
    for content in entry.get("content") or []:
        text = strip_html(content.get("value") or "")
        if text:
            return text
    return strip_html(entry.get("summary") or entry.get("description") or "")


def parse_feed(
    content: bytes, url: str, content_type: str | None = None, check: Check | None = None
) -> ParsedFeed:
    """Never raises: a document that is not a feed gives no articles and the reason in `malformed`.
    Each entry passes `check` (the HTTP ingest gate, `parse.checker`); one that fails is a problem,
    not an article. CPU-heavy on a big feed: the poller runs it in a thread."""
    headers = {"content-type": content_type} if content_type else {}
    doc = feedparser.parse(content, response_headers=headers, sanitize_html=False)
    malformed = f"{type(doc.bozo_exception).__name__}: {doc.bozo_exception}" if doc.bozo else None
    if not doc.entries and not doc.version:
        return ParsedFeed(None, malformed=malformed or "not an RSS or Atom document")
    language = doc.feed.get("language") or None
    articles: list[RawArticle] = []
    problems: list[str] = []
    for n, entry in enumerate(doc.entries, 1):
        title = strip_html(entry.get("title") or "")
        body = _body(entry) or title
        title = title or body.split("\n", 1)[0][:200]
        published = _when(entry)
        try:
            article = from_mapping(
                {
                    "title": title,
                    "body": body,
                    "url": entry.get("link") or None,
                    "language": language[:MAX_LANGUAGE] if language else None,
                    "published_at": published.isoformat() if published else None,
                },
                source=feed_source(url),
            )
            articles.append(check(article) if check else article)
        except ArticleError as exc:
            problems.append(f"entry {n}: {exc}")
    return ParsedFeed(
        strip_html(doc.feed.get("title") or "") or None, articles, problems, malformed
    )
