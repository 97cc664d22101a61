"""Subscriber side: pub/sub pattern subscription, printed for people or as JSON lines."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from schemas import Alert
from services.common.redisconn import TRANSIENT

log = logging.getLogger(__name__)

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


@dataclass
class SubscriptionStats:
    """What a subscriber saw; `reconnects` > 0 means pub/sub may have missed alerts (read the stream)."""

    received: int = 0
    reconnects: int = 0
    invalid: int = 0


async def alerts(
    url: str,
    pattern: str,
    ready: asyncio.Event | None = None,
    *,
    stats: SubscriptionStats | None = None,
    options: dict[str, Any] | None = None,
) -> AsyncIterator[Alert]:
    """Yields alerts published on channels matching `pattern` until cancelled.

    Survives a Redis restart: a dropped connection is reopened with backoff and the pattern
    subscribed again. Messages that are not alerts are counted and skipped, never fatal.
    """
    st = stats if stats is not None else SubscriptionStats()
    delay = 0.2
    while True:
        client = aioredis.Redis.from_url(url, **(options or {}))
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.psubscribe(pattern)
            if ready is not None:
                ready.set()
            delay = 0.2
            while True:
                msg = await pubsub.get_message(timeout=1.0)
                if msg is None or msg.get("type") != "pmessage":
                    continue
                try:
                    alert = Alert.model_validate_json(msg["data"])
                except ValueError:
                    st.invalid += 1
                    continue
                st.received += 1
                yield alert
        except TRANSIENT as exc:
            st.reconnects += 1
            log.warning(
                "subscriber lost Redis (%s), resubscribing in %.1fs", type(exc).__name__, delay
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            with contextlib.suppress(Exception):
                await client.aclose()
