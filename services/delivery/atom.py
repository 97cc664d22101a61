"""Atom 1.0 feeds (RFC 4287) of the alert stream: one for all alerts, one per named subscription.

One entry per alert (a story update): id `urn:newswire:alert:<alert id>` (stable: the same alert
always has the same id), `updated` the time it was delivered to the stream, `published` the
article's time, categories for severity, rule and countries, and the evidence sentences in its
content. Feeds are served by the dashboard (`/feeds/all.atom`, `/feeds/subscriptions/NAME.atom`)
with a strong ETag and Last-Modified, so a polling feed reader mostly gets 304.

When the API is protected (`NEWSWIRE_API_TOKEN`), a feed needs `Authorization: Bearer <token>` or
`?token=<feed token>`: an HMAC of the API token and the feed name, so a feed URL pasted into a
reader gives that feed and nothing else, and the API token itself never appears in a URL.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import redis.asyncio as aioredis

from schemas import Alert, Subscription
from services.common.topics import RedisKeys
from services.delivery.render import AlertView, clip, stamp, view
from services.delivery.subscriptions import matches

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
FEED_ENTRIES = 50
SCAN_ENTRIES = 5000  # newest stream entries looked at for a subscription's feed
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ALL = "all"


def feed_token(api_token: str, feed: str) -> str:
    """The token in a feed URL: good for this feed only, derived from the API token."""
    return hmac.new(api_token.encode(), f"atom-feed:{feed}".encode(), hashlib.sha256).hexdigest()[
        :32
    ]


def authorised(
    api_token: str | None, feed: str, authorization: str | None, query_token: str | None
) -> bool:
    if not api_token:
        return True
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(value.encode(), api_token.encode()):
        return True
    return query_token is not None and hmac.compare_digest(
        query_token.encode(), feed_token(api_token, feed).encode()
    )


def feed_path(feed: str) -> str:
    return "/feeds/all.atom" if feed == ALL else f"/feeds/subscriptions/{feed}.atom"


def feed_url(base: str, feed: str, api_token: str | None) -> str:
    url = base.rstrip("/") + feed_path(feed)
    return f"{url}?token={feed_token(api_token, feed)}" if api_token else url


def entry_time(stream_id: str) -> datetime:
    return datetime.fromtimestamp(int(stream_id.split("-", 1)[0]) / 1000, UTC)


async def recent(
    client: aioredis.Redis,
    keys: RedisKeys,
    sub: Subscription | None,
    *,
    limit: int = FEED_ENTRIES,
    scan: int = SCAN_ENTRIES,
) -> list[tuple[datetime, Alert]]:
    """The newest `limit` alerts of the stream (matching `sub`), newest first, with their times."""
    out: list[tuple[datetime, Alert]] = []
    top = "+"
    seen = 0
    while len(out) < limit and seen < scan:
        batch: Any = await client.xrevrange(keys.stream, max=top, min="-", count=500)
        if not batch:
            break
        for eid, fields in batch:
            sid = eid.decode() if isinstance(eid, bytes) else str(eid)
            top = f"({sid}"
            seen += 1
            if not fields or b"alert" not in fields:
                continue
            try:
                alert = Alert.model_validate_json(fields[b"alert"])
            except ValueError:
                continue
            if sub is None or matches(sub, alert):
                out.append((entry_time(sid), alert))
                if len(out) >= limit:
                    break
        if len(batch) < 500:
            break
    return out


def _rfc3339(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Without the characters XML 1.0 cannot carry at all (control characters, lone surrogates)."""
    return _NOT_XML.sub("", text)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        el.text = xml_text(text)
    return el


def entry_html(v: AlertView) -> str:
    from html import escape

    parts = [
        f"<p><b>{escape(v.label)}</b> · {escape(v.what)}</p>",
        f"<p>Where: {escape(v.where or '—')} · When: {escape(stamp(v.when))} · "
        f"Rule: {escape(', '.join(v.rules))} · Score: {v.score:.1f}</p>",
    ]
    parts += [f"<blockquote>{escape(s)}</blockquote>" for s in v.evidence]
    links = [f'<a href="{escape(v.dashboard_url)}">Dashboard</a>']
    if v.article_url:
        links.insert(0, f'<a href="{escape(v.article_url)}">Article</a>')
    parts.append(f"<p>{' · '.join(links)}</p>")
    return "".join(parts)


def render_feed(
    entries: Sequence[tuple[datetime, Alert]],
    *,
    feed: str,
    title: str,
    self_url: str,
    dashboard: str,
    empty_updated: datetime = EPOCH,
) -> bytes:
    ET.register_namespace("", ATOM_NS)
    root = ET.Element(f"{{{ATOM_NS}}}feed")
    _sub(root, "id", f"urn:newswire:feed:{feed}")
    _sub(root, "title", title)
    newest = max((t for t, _ in entries), default=empty_updated)
    _sub(root, "updated", _rfc3339(newest))
    author = _sub(root, "author")
    _sub(author, "name", "newswire")
    _sub(root, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(root, "link", rel="alternate", type="text/html", href=dashboard.rstrip("/") + "/")
    _sub(root, "generator", "newswire")
    for at, alert in entries:
        v = view(alert, dashboard)
        e = _sub(root, "entry")
        _sub(e, "id", f"urn:newswire:alert:{alert.id}")
        where = f" — {v.where}" if v.where else ""
        _sub(e, "title", clip(f"[{v.label}] {v.headline}{where}", 300), type="text")
        _sub(e, "updated", _rfc3339(at))
        if alert.times.published:
            _sub(e, "published", _rfc3339(alert.times.published))
        _sub(e, "link", rel="alternate", type="text/html", href=v.article_url or v.dashboard_url)
        _sub(e, "link", rel="related", type="text/html", href=v.dashboard_url)
        _sub(e, "category", term=v.severity, scheme="urn:newswire:severity", label=v.label)
        for rule in v.rules:
            _sub(e, "category", term=rule, scheme="urn:newswire:rule")
        for c in alert.countries:
            _sub(e, "category", term=c, scheme="urn:newswire:country")
        _sub(e, "summary", clip(v.evidence[0], 500) if v.evidence else v.what, type="text")
        _sub(e, "content", entry_html(v), type="html")
    xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + xml


def etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def last_modified(entries: Sequence[tuple[datetime, Alert]], empty: datetime = EPOCH) -> str:
    return format_datetime(max((t for t, _ in entries), default=empty).astimezone(UTC), usegmt=True)


def not_modified(request_headers: Mapping[str, str], tag: str, modified: str) -> bool:
    """RFC 9110: If-None-Match decides when present; otherwise If-Modified-Since (1 s precision)."""
    inm = request_headers.get("If-None-Match")
    if inm is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or tag in tags
    ims = request_headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return parsedate_to_datetime(modified) <= since
    return False
