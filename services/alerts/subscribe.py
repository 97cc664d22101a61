"""Subscriber side: pub/sub pattern subscription, printed for people or as JSON lines."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import redis.asyncio as aioredis

from schemas import Alert
from services.alerts.subscriptions import Digest

COLOURS = {"low": "\x1b[37m", "medium": "\x1b[33m", "high": "\x1b[31m", "critical": "\x1b[1;41m"}


def format_alert(alert: Alert, colour: bool = False) -> str:
    sev = alert.severity.upper()
    if colour:
        sev = f"{COLOURS[alert.severity]}{sev}\x1b[0m"
    lines = [
        f"[{sev}] {alert.rule_id}: {alert.rule_description} (score {alert.score:.1f})",
        f"    article {alert.article_id}: {alert.title[:120]}",
    ]
    seen = set()
    for m in alert.matches:
        if m.sentence not in seen:
            seen.add(m.sentence)
            lines.append(f'    «{m.term}» in: "{m.sentence[:200]}"')
        if len(seen) >= 3:
            break
    return "\n".join(lines)


def parse_message(data: bytes) -> Alert | Digest:
    """A channel carries alerts, and on subscription channels also digests of rate-limited alerts."""
    if b'"type":"digest"' in data[:40]:
        return Digest.model_validate_json(data)
    return Alert.model_validate_json(data)


def format_digest(d: Digest) -> str:
    rules = sorted({str(a.get("rule_id", "?")) for a in d.alerts})
    return f"[DIGEST] {d.subscription}: {d.count} more alert(s) over the rate limit ({', '.join(rules)})"


async def alerts(
    url: str, pattern: str, ready: asyncio.Event | None = None
) -> AsyncIterator[Alert | Digest]:
    """Yields alerts (and digests) published on channels matching `pattern` until cancelled."""
    client = aioredis.Redis.from_url(url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.psubscribe(pattern)
        if ready is not None:
            ready.set()
        while True:
            msg = await pubsub.get_message(timeout=1.0)
            if msg is None or msg.get("type") != "pmessage":
                continue
            yield parse_message(msg["data"])
    finally:
        with contextlib.suppress(Exception):
            await pubsub.aclose()  # type: ignore[no-untyped-call]
        await client.aclose()
