"""Deterministic ids: the same article or alert always gets the same id, so replays are idempotent."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING_PREFIXES = ("utm_", "fbclid", "gclid", "mc_", "ocid", "cmpid")
_WS = re.compile(r"\s+")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, drop fragment, tracking params, default ports and trailing slash."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower() or "http"
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    query = urlencode(
        sorted(
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.lower().startswith(_TRACKING_PREFIXES)
        )
    )
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((scheme, netloc, path, query, ""))


def normalise_content(title: str, body: str) -> str:
    """NFKC, case-folded, whitespace-collapsed title + body: the content identity of an article."""
    text = unicodedata.normalize("NFKC", f"{title}\n{body}").casefold()
    return _WS.sub(" ", text).strip()


def article_id(url: str | None, title: str, body: str) -> str:
    """From the canonical URL when there is one, else from the normalised content."""
    if url:
        return _digest("url:" + canonical_url(url))
    return _digest("content:" + normalise_content(title, body))


def alert_id(subject_id: str, rule_id: str) -> str:
    """One alert per (article or story, rule): a re-delivered alert keeps its id."""
    return _digest(f"alert:{subject_id}:{rule_id}")
