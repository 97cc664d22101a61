"""Webhooks: a second delivery channel. POST the alert JSON, signed with HMAC-SHA256, with retries.

The receiver checks `X-Newswire-Signature: sha256=<hex hmac of "<timestamp>.<body>">` with the
shared secret and rejects old timestamps (replay protection). After the last failed attempt a
dead-letter record (alert, target, attempts, last error) goes to a Redis stream for inspection.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from schemas import Alert
from services.common.topics import RedisKeys
from services.delivery.subscriptions import SubscriptionStore, matches

SIGNATURE_HEADER = "X-Newswire-Signature"
TIMESTAMP_HEADER = "X-Newswire-Timestamp"
ID_HEADER = "X-Newswire-Alert-Id"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance_s: float = 300
) -> bool:
    """For receivers: constant-time check of the signature and the timestamp's freshness."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


def retry_delays(attempts: int, base_s: float, cap_s: float) -> list[float]:
    """Waits between attempts: exponential, capped (attempts - 1 of them)."""
    return [min(cap_s, base_s * 2**i) for i in range(max(0, attempts - 1))]


@dataclass
class WebhookResult:
    delivered: bool
    attempts: int
    status: int | None = None
    errors: list[str] = field(default_factory=list)


DeadLetterSink = Callable[[dict[str, object]], Awaitable[None]]


async def deliver_webhook(
    alert: Alert,
    target: str,
    secret: str,
    *,
    session: aiohttp.ClientSession | None = None,
    attempts: int = 5,
    base_delay_s: float = 0.5,
    max_delay_s: float = 30.0,
    timeout_s: float = 10.0,
    dead_letter: DeadLetterSink | None = None,
) -> WebhookResult:
    """2xx is success; 4xx other than 408/429 is permanent (no retry); the rest is retried."""
    body = alert.model_dump_json().encode()
    own = session is None
    http = session or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s))
    result = WebhookResult(delivered=False, attempts=0)
    delays = [*retry_delays(attempts, base_delay_s, max_delay_s), 0.0]
    try:
        for delay in delays:
            result.attempts += 1
            ts = int(time.time())
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(secret, ts, body),
                TIMESTAMP_HEADER: str(ts),
                ID_HEADER: alert.id,
            }
            try:
                async with http.post(target, data=body, headers=headers) as resp:
                    result.status = resp.status
                    if 200 <= resp.status < 300:
                        result.delivered = True
                        return result
                    result.errors.append(f"HTTP {resp.status}")
                    if 400 <= resp.status < 500 and resp.status not in (408, 429):
                        break
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                result.errors.append(f"{type(exc).__name__}: {exc}".strip())
            if result.attempts < attempts:
                await asyncio.sleep(delay)
    finally:
        if own:
            await http.close()
    if dead_letter is not None:
        await dead_letter(
            {
                "alert_id": alert.id,
                "target": target,
                "attempts": result.attempts,
                "status": result.status,
                "errors": result.errors,
                "failed_at": time.time(),
                "alert": json.loads(body),
            }
        )
    return result


def redis_dead_letter(client: aioredis.Redis, stream: str, maxlen: int = 10_000) -> DeadLetterSink:
    """A dead-letter sink writing to a capped Redis stream (`<prefix>:stream:webhooks:dead`)."""

    async def sink(record: dict[str, object]) -> None:
        await client.xadd(
            stream, {"record": json.dumps(record, default=str)}, maxlen=maxlen, approximate=True
        )

    return sink


# ---- subscriptions with a webhook_url, fed from the alert stream ------------------------------
def dead_stream(keys: RedisKeys) -> str:
    return f"{keys.prefix}:stream:webhooks:dead"


async def dispatch(
    client: aioredis.Redis,
    keys: RedisKeys,
    secret: str,
    *,
    group: str = "webhooks",
    consumer: str = "dispatcher-1",
    block_ms: int = 2000,
    **delivery: Any,
) -> None:
    """Reads the alert stream in a consumer group and POSTs each alert to the `webhook_url` of every
    named subscription it matches; an entry is acknowledged after delivery or dead-lettering, so a
    crash re-delivers it (at-least-once; receivers dedupe on X-Newswire-Alert-Id). Until cancelled."""
    with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists
        await client.xgroup_create(keys.stream, group, id="$", mkstream=True)
    store = SubscriptionStore(client, keys)
    dead = redis_dead_letter(client, dead_stream(keys))
    cursor = "0"  # first our own pending entries, then new ones
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        while True:
            got: Any = await client.xreadgroup(
                group, consumer, {keys.stream: cursor}, count=100, block=block_ms
            )
            entries = [e for _, batch in got or [] for e in batch]
            if cursor == "0" and not entries:
                cursor = ">"
                continue
            hooks = [s for s in await store.list() if s.webhook_url]
            for eid, fields in entries:
                if fields and b"alert" in fields:
                    alert = Alert.model_validate_json(fields[b"alert"])
                    await asyncio.gather(
                        *(
                            deliver_webhook(
                                alert, url, secret, session=http, dead_letter=dead, **delivery
                            )
                            for url in {s.webhook_url for s in hooks if matches(s, alert)}
                            if url
                        )
                    )
                await client.xack(keys.stream, group, eid)
