"""Sending one message with retries, for every channel; the HTTP part the webhook and chats share.

The waits are the one retry policy's (`services/common/retrying.py`, tenacity with jitter): a
failure the channel calls permanent is not retried; a receiver's `retry_after` (the `Retry-After`
header of Slack and Teams, Discord's JSON `retry_after`, Telegram's `parameters.retry_after`) is
waited instead of the backoff, or the message is dead-lettered when it asks for longer than the
caller allows. For HTTP: 2xx is success; 408, 429, 5xx and connection errors are transient; any
other 4xx, a redirect (never followed) and a target at an internal address (the outbound
guard's "blocked address") are permanent; a body is read only up to a cap.
Secrets in a URL (a Slack or Discord webhook path, a Telegram bot token) never reach an error message, a log line or a dead letter: targets have a `label` to show
instead of the URL and the `secrets` to scrub.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base

from services.common.outbound import Blocked, Outbound, OutboundError
from services.common.retrying import DELIVERY, Backoff
from services.common.settings import Settings
from services.delivery.channel import Address, Channel, Context, Failure, Message
from services.delivery.config import Config

log = logging.getLogger(__name__)

DeadLetterSink = Callable[[dict[str, object]], Awaitable[None]]


@dataclass
class DeliveryResult:
    delivered: bool
    attempts: int
    status: int | None = None
    errors: list[str] = field(default_factory=list)


def redact(text: str, secrets: Iterable[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


class _Failed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.error)
        self.failure = failure


class _BackoffOrAsked(wait_base):
    """The policy's wait, or the one the receiver asked for."""

    def __init__(self, policy: Backoff) -> None:
        self.policy = policy.wait()

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, _Failed) and exc.failure.retry_after is not None:
            return exc.failure.retry_after
        return float(self.policy(retry_state))


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, _Failed) and not exc.failure.permanent


async def with_retries(
    send: Callable[[], Awaitable[int | None]],
    classify: Callable[[Exception], Failure | None],
    *,
    label: str,
    secrets: Iterable[str] = (),
    attempts: int = 5,
    backoff: Backoff = DELIVERY,
    max_retry_after_s: float = 60.0,
) -> DeliveryResult:
    """`send()` until it succeeds, fails permanently or `attempts` are used; an error `classify`
    does not know (None) is raised."""
    hidden = [s for s in secrets if s]
    result = DeliveryResult(delivered=False, attempts=0)

    async def once() -> None:  # records the attempt: tenacity re-raises only the last error
        result.attempts += 1
        try:
            result.status = await send()
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            result.status = failure.status
            result.errors.append(redact(failure.error, hidden))
            asked = failure.retry_after
            if asked is not None and asked > max_retry_after_s:
                result.errors.append(f"retry_after {asked:g}s exceeds {max_retry_after_s:g}s")
                failure = replace(failure, permanent=True)
            raise _Failed(failure) from None

    def before_sleep(state: RetryCallState) -> None:
        wait = state.next_action.sleep if state.next_action else 0.0
        log.info("delivery to %s failed (%s), retrying in %.1fs", label, result.errors[-1], wait)

    try:
        async for attempt in AsyncRetrying(
            wait=_BackoffOrAsked(backoff),
            stop=stop_after_attempt(max(1, attempts)),
            retry=retry_if_exception(_transient),
            before_sleep=before_sleep,
            reraise=True,
        ):
            with attempt:
                await once()
    except _Failed:
        return result
    result.delivered = True
    return result


async def deliver(
    channel: Channel[Any],
    spec: Any,
    address: Address,
    message: Message,
    ctx: Context,
    *,
    attempts: int | None = None,
    backoff: Backoff = DELIVERY,
    dead_letter: DeadLetterSink | None = None,
) -> DeliveryResult:
    """One message to one target with the channel's retries; when it fails for good (or the
    target cannot be sent to at all), its dead letter."""
    if address.error:
        result = DeliveryResult(False, 0, errors=[address.error])
    else:
        result = await with_retries(
            lambda: channel.send(spec, address, message, ctx),
            channel.classify,
            label=address.label,
            secrets=address.secrets,
            attempts=attempts or channel.attempts,
            backoff=backoff,
            max_retry_after_s=ctx.config.max_retry_after_s,
        )
    if not result.delivered:
        ids = ",".join(a.id for a in message.alerts)
        log.warning("%s delivery of alert(s) %s failed: %s", address.label, ids, result.errors[-1:])
        if dead_letter is not None:
            await dead_letter(
                dead_record(
                    alert_id=ids,
                    target=address.label,
                    result=result,
                    alert=message.dead,
                    kind=channel.kind,
                )
            )
    return result


# ---- HTTP ------------------------------------------------------------------------------------


class HttpStatus(Exception):
    """A receiver's answer other than 2xx."""

    def __init__(self, status: int, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


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


ERROR_BODY_CAP = 64 * 1024  # bytes of a response read (a Retry-After in JSON is small)


def outbound_client(config: Config) -> Outbound:
    """The guarded outbound client delivery sends with (issue 27: every outbound request goes
    through it): targets at internal addresses are refused on every connection unless
    `outbound_allow` lets them through; `http_timeout_s` bounds one attempt. No shared pool cap:
    each lane holds one connection at a time, so slow targets cannot take the connections the
    others need (the client's default is 100 for all)."""
    settings = Settings.model_construct(  # only the client's fields; nothing read from the env
        outbound_allow=list(config.outbound_allow),
        outbound_timeout_s=config.http_timeout_s,
        outbound_max_redirects=0,
    )
    return Outbound(settings, limit=0)


async def post(http: Outbound, url: str, body: bytes, headers: Mapping[str, str]) -> int:
    """One POST: the status when 2xx, else raises `HttpStatus` (with a 429's `retry_after`).
    Redirects are not followed (a 307 would re-POST the signed body wherever it points): a 3xx
    is a permanent failure. A body is read up to `ERROR_BODY_CAP`, the rest never (the connection
    is dropped, not drained): a receiver's 300 MB error page costs nothing. The one place
    delivery speaks HTTP."""
    resp = await http.request(
        "POST", url, data=body, headers=headers, max_bytes=ERROR_BODY_CAP, truncate=True
    )
    if 200 <= resp.status < 300:
        return resp.status
    raise HttpStatus(
        resp.status, retry_after(resp.headers, resp.body) if resp.status == 429 else None
    )


BLOCKED = "blocked address"  # how a dead letter names a target the outbound guard refused


def classify_http(exc: Exception) -> Failure | None:
    if isinstance(exc, HttpStatus):
        permanent = 300 <= exc.status < 500 and exc.status not in (408, 429)
        return Failure(str(exc), permanent, exc.status, exc.retry_after)
    if isinstance(exc, Blocked):  # before OSError: it is one, and asking again changes nothing
        return Failure(f"{BLOCKED}: {exc}", permanent=True)
    if isinstance(exc, OutboundError):
        return Failure(f"{type(exc).__name__}: {exc}", permanent=True)
    if isinstance(exc, aiohttp.ClientError | TimeoutError | OSError):
        return Failure(f"{type(exc).__name__}: {exc}".strip())
    return None


# ---- dead letters ----------------------------------------------------------------------------


def dead_record(
    *, alert_id: str, target: str, result: DeliveryResult, alert: object, kind: str = "webhook"
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
    """A dead-letter sink writing to a capped Redis stream (`RedisKeys.dead_deliveries`)."""

    async def sink(record: dict[str, object]) -> None:
        await client.xadd(
            stream, {"record": json.dumps(record, default=str)}, maxlen=maxlen, approximate=True
        )

    return sink
