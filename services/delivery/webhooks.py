"""Webhooks: a second delivery channel. POST the alert JSON, signed with HMAC-SHA256, with retries.

The receiver checks `X-Newswire-Signature: sha256=<hex hmac of "<timestamp>.<body>">` with the
shared secret and rejects old timestamps (replay protection). After the last failed attempt a
dead-letter record (alert, target, attempts, last error) goes to a Redis stream for inspection.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from schemas import Alert
from services.common.topics import RedisKeys
from services.delivery.retry import (
    DeadLetterSink,
    WebhookResult,
    dead_record,
    post_with_retries,
    redis_dead_letter,
    retry_delays,
)

__all__ = [
    "DeadLetterSink",
    "WebhookResult",
    "deliver_webhook",
    "dispatch",
    "redis_dead_letter",
    "retry_delays",
    "sign",
    "verify",
]

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


async def deliver_webhook(
    alert: Alert,
    target: str,
    secret: str,
    *,
    session: aiohttp.ClientSession | None = None,
    attempts: int = 5,
    base_delay_s: float = 0.5,
    max_delay_s: float = 30.0,
    max_retry_after_s: float = 60.0,
    timeout_s: float = 10.0,
    dead_letter: DeadLetterSink | None = None,
) -> WebhookResult:
    """2xx is success; 4xx other than 408/429 is permanent (no retry); the rest is retried."""
    body = alert.model_dump_json().encode()

    def headers() -> dict[str, str]:
        ts = int(time.time())
        return {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, ts, body),
            TIMESTAMP_HEADER: str(ts),
            ID_HEADER: alert.id,
        }

    own = session is None
    http = session or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s))
    try:
        result = await post_with_retries(
            http,
            target,
            body,
            headers,
            label=target,
            attempts=attempts,
            base_delay_s=base_delay_s,
            max_delay_s=max_delay_s,
            max_retry_after_s=max_retry_after_s,
        )
    finally:
        if own:
            await http.close()
    if not result.delivered and dead_letter is not None:
        await dead_letter(
            dead_record(alert_id=alert.id, target=target, result=result, alert=json.loads(body))
        )
    return result


# ---- subscriptions with a webhook_url, fed from the alert stream ------------------------------
def dead_stream(keys: RedisKeys) -> str:
    return f"{keys.prefix}:stream:webhooks:dead"


async def dispatch(
    client: aioredis.Redis,
    keys: RedisKeys,
    secret: str | None,
    *,
    config: Any = None,
    **kwargs: Any,
) -> None:
    """Every target of the named subscriptions from the alert stream: `delivery.dispatch.dispatch`
    with this webhook secret (the signed webhooks, chat messages and e-mail). Until cancelled."""
    from dataclasses import replace

    from services.delivery.dispatch import Config
    from services.delivery.dispatch import dispatch as run

    await run(client, keys, replace(config or Config(), webhook_secret=secret), **kwargs)
