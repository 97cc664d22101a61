"""One HTTP POST with retries, shared by the signed webhook and the chat targets.

2xx is success. 429 is retried after the receiver's `retry_after` (the `Retry-After` header of Slack
and Teams, Discord's JSON `retry_after`, Telegram's `parameters.retry_after`), or dead-lettered
when that is longer than the caller allows. 408 and 5xx and connection errors are retried with
capped exponential backoff; any other 4xx is permanent. Secrets in the URL (a Slack or Discord
webhook path, a Telegram bot token) never reach an error message, a log line or a dead letter:
callers give a `label` to show instead of the URL and the `secrets` to scrub.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import redis.asyncio as aioredis

log = logging.getLogger(__name__)

DeadLetterSink = Callable[[dict[str, object]], Awaitable[None]]


@dataclass
class WebhookResult:
    delivered: bool
    attempts: int
    status: int | None = None
    errors: list[str] = field(default_factory=list)


def retry_delays(attempts: int, base_s: float, cap_s: float) -> list[float]:
    """Waits between attempts: exponential, capped (attempts - 1 of them)."""
    return [min(cap_s, base_s * 2**i) for i in range(max(0, attempts - 1))]


def redact(text: str, secrets: Iterable[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


def retry_after(headers: Any, body: bytes, now: float | None = None) -> float | None:
    """Seconds the receiver asks us to wait, from any of the platforms' ways of saying it."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        params = data.get("parameters")
        for v in (
            params.get("retry_after") if isinstance(params, dict) else None,  # Telegram
            data.get("retry_after"),  # Discord (seconds, fractional)
        ):
            if isinstance(v, int | float) and not isinstance(v, bool) and v >= 0:
                return float(v)
    value = headers.get("Retry-After") if headers is not None else None
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            base = datetime.now(UTC).timestamp() if now is None else now
            return max(0.0, when.timestamp() - base)
    return None


async def post_with_retries(
    http: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: Callable[[], dict[str, str]],
    *,
    label: str,
    secrets: Iterable[str] = (),
    attempts: int = 5,
    base_delay_s: float = 0.5,
    max_delay_s: float = 30.0,
    max_retry_after_s: float = 60.0,
) -> WebhookResult:
    """`headers()` is called before every attempt (a signature carries a fresh timestamp)."""
    hidden = [s for s in secrets if s]
    result = WebhookResult(delivered=False, attempts=0)
    delays = [*retry_delays(attempts, base_delay_s, max_delay_s), 0.0]
    for delay in delays:
        result.attempts += 1
        wait = delay
        try:
            async with http.post(url, data=body, headers=headers()) as resp:
                result.status = resp.status
                if 200 <= resp.status < 300:
                    result.delivered = True
                    return result
                text = await resp.read()
                result.errors.append(f"HTTP {resp.status}")
                if resp.status == 429:
                    asked = retry_after(resp.headers, text)
                    if asked is not None:
                        if asked > max_retry_after_s:
                            result.errors.append(
                                f"retry_after {asked:g}s exceeds {max_retry_after_s:g}s"
                            )
                            break
                        wait = max(asked, 0.0)
                elif 400 <= resp.status < 500 and resp.status != 408:
                    break
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            result.errors.append(redact(f"{type(exc).__name__}: {exc}".strip(), hidden))
        if result.attempts < attempts:
            log.info(
                "delivery to %s failed (%s), retrying in %.1fs", label, result.errors[-1], wait
            )
            await asyncio.sleep(wait)
    return result


def dead_record(
    *, alert_id: str, target: str, result: WebhookResult, alert: object, kind: str = "webhook"
) -> dict[str, object]:
    return {
        "alert_id": alert_id,
        "kind": kind,
        "target": target,
        "attempts": result.attempts,
        "status": result.status,
        "errors": result.errors,
        "failed_at": time.time(),
        "alert": alert,
    }


def redis_dead_letter(client: aioredis.Redis, stream: str, maxlen: int = 10_000) -> DeadLetterSink:
    """A dead-letter sink writing to a capped Redis stream (`<prefix>:stream:webhooks:dead`)."""

    async def sink(record: dict[str, object]) -> None:
        await client.xadd(
            stream, {"record": json.dumps(record, default=str)}, maxlen=maxlen, approximate=True
        )

    return sink
