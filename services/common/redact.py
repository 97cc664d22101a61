"""The one masking function for URLs in messages: logs, ops events, CLI output, errors.

URLs carry credentials in three places: user info (`redis://user:password@host`, a token as
the user name), query values (`?api_key=...`, `?token=...`) and the fragment. A message needs the
host and path to be useful, never those; the usable URL stays with the client that connects.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"


def mask_url(url: str) -> str:
    """`url` with its password (or a lone user name, often a token), every query value and the
    fragment replaced by `***`; an unparseable URL comes back as `***` with its scheme, if any."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        scheme = url.partition("://")[0] if "://" in url else ""
        return f"{scheme}://{MASK}" if scheme.isalnum() else MASK
    netloc = parts.hostname or ""
    if ":" in netloc:  # an IPv6 literal
        netloc = f"[{netloc}]"
    if port is not None:
        netloc = f"{netloc}:{port}"
    if parts.password is not None:
        netloc = f"{parts.username}:{MASK}@{netloc}" if parts.username else f"{MASK}@{netloc}"
    elif parts.username:
        netloc = f"{MASK}@{netloc}"
    query = urlencode(
        [(k, MASK) for k, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="*"
    )
    fragment = MASK if parts.fragment else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>()\[\]]+")


def mask_urls(text: str) -> str:
    """`text` (an error message, say: aiohttp's name the URL they failed on) with every URL in it
    masked by `mask_url`."""
    return _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)
