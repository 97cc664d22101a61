"""Subscriber side: pub/sub pattern subscription, printed for people or as JSON lines."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from schemas import Alert, Digest
from services.common.redisconn import TRANSIENT
from services.common.retrying import RECONNECT
from services.common.topics import RedisKeys
from services.delivery.render import terminal_safe
from services.delivery.sink import channels_for

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


def parse_message(data: bytes) -> Alert | Digest:
    """A channel carries alerts, and on subscription channels also digests of rate-limited alerts."""
    if b'"type":"digest"' in data[:40]:
        return Digest.model_validate_json(data)
    return Alert.model_validate_json(data)


def format_digest(d: Digest) -> str:
    rules = sorted({str(a.get("rule_id", "?")) for a in d.alerts})
    return terminal_safe(
        f"[DIGEST] {d.subscription}: {d.count} more alert(s) over the rate limit ({', '.join(rules)})"
    )


@dataclass
class SubscriptionStats:
    """What a subscriber saw: `reconnects` dropped connections, `backfilled` alerts it missed on
    pub/sub and took from the stream instead, `invalid` messages that were not alerts."""

    received: int = 0
    reconnects: int = 0
    backfilled: int = 0
    invalid: int = 0


class _Seen:
    """Recently yielded alert ids (bounded), so pub/sub and stream backfill never yield one twice."""

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, alert_id: str) -> bool:
        if alert_id in self._ids:
            return False
        self._ids[alert_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


def wanted(alert: Alert, pattern: str, keys: RedisKeys) -> bool:
    """Whether PSUBSCRIBE `pattern` would have received this alert on one of its channels."""
    return any(fnmatch.fnmatchcase(c, pattern) for c in channels_for(alert, keys))


async def _stream_tip(client: aioredis.Redis, keys: RedisKeys) -> str:
    last: Any = await client.xrevrange(keys.stream, count=1)
    return str(last[0][0].decode()) if last else "0-0"


async def alerts(
    url: str,
    pattern: str,
    ready: asyncio.Event | None = None,
    *,
    stats: SubscriptionStats | None = None,
    options: dict[str, Any] | None = None,
    keys: RedisKeys | None = None,
) -> AsyncIterator[Alert | Digest]:
    """Yields alerts (and digests) published on channels matching `pattern` until cancelled.

    Survives a Redis restart: a dropped connection is reopened with backoff and the pattern
    subscribed again. With `keys`, alerts added to the stream while the subscriber was away are
    read from the stream after it resubscribed (gap-free, each alert once). Messages that are not
    alerts are counted and skipped, never fatal.
    """
    st = stats if stats is not None else SubscriptionStats()
    seen = _Seen()
    tip: str | None = None
    waits = RECONNECT.iter_delays()
    while True:
        client = aioredis.Redis.from_url(url, **(options or {}))
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.psubscribe(pattern)
            if keys is not None:
                if tip is not None:  # a reconnect: take what pub/sub missed from the stream
                    missed: Any = await client.xrange(keys.stream, min=f"({tip}")
                    for entry_id, fields in missed:
                        tip = entry_id.decode()
                        alert = Alert.model_validate_json(fields[b"alert"])
                        if wanted(alert, pattern, keys) and seen.add(alert.id):
                            st.backfilled += 1
                            yield alert
                else:
                    tip = await _stream_tip(client, keys)
            if ready is not None:
                ready.set()
            waits = RECONNECT.iter_delays()  # connected: the next drop starts from the shortest
            while True:
                msg = await pubsub.get_message(timeout=1.0)
                if msg is None or msg.get("type") != "pmessage":
                    continue
                try:
                    item = parse_message(msg["data"])
                except ValueError:
                    st.invalid += 1
                    continue
                if isinstance(item, Alert) and keys is not None and not seen.add(item.id):
                    continue
                st.received += 1
                yield item
        except TRANSIENT as exc:
            st.reconnects += 1
            delay = next(waits)
            log.warning(
                "subscriber lost Redis (%s), resubscribing in %.1fs", type(exc).__name__, delay
            )
            await asyncio.sleep(delay)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            with contextlib.suppress(Exception):
                await client.aclose()
