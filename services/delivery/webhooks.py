"""The signed webhook channel: POST the alert JSON, signed with HMAC-SHA256.

The receiver checks `X-Newswire-Signature: sha256=<hex hmac of "<timestamp>.<body>">` with the
shared secret and rejects old timestamps (replay protection). One POST per alert: a machine gets
each rule's alert of a story update, a person's channels get one message naming them all.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

import aiohttp
from pydantic import Field

from schemas import Alert, Target
from services.common.retrying import DELIVERY, Backoff
from services.delivery.channel import (
    URL,
    Address,
    BaseChannel,
    Context,
    Failure,
    Message,
    Spec,
    dump,
    label_of,
)
from services.delivery.config import Config
from services.delivery.retry import (
    DeadLetterSink,
    DeliveryResult,
    classify_http,
    deliver,
    post,
)

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


class WebhookSpec(Spec):
    url: str = Field(pattern=URL, description="Where the signed JSON is POSTed.")


class Webhook(BaseChannel):
    kind: str = "webhook"
    spec: type[Spec] = WebhookSpec

    def describe(self, spec: WebhookSpec, sub: str) -> str:
        return label_of(self.kind, spec.url)

    def address(self, spec: WebhookSpec, sub: str, ctx: Context) -> Address:
        missing = (
            None
            if ctx.config.webhook_secret
            else "NEWSWIRE_WEBHOOK_SECRET unset: webhooks are signed"
        )
        return Address(spec.url, spec.url, error=missing)

    def render(
        self,
        spec: WebhookSpec,
        alerts: Sequence[Alert],
        sub: str,
        ctx: Context,
        *,
        digest: bool = False,
    ) -> list[Message]:
        return [Message(a.model_dump_json().encode(), (a,), dump(a)) for a in alerts]

    async def send(
        self, spec: WebhookSpec, address: Address, message: Message, ctx: Context
    ) -> int | None:
        secret = ctx.config.webhook_secret or ""
        ts = int(time.time())  # each attempt signs afresh: its timestamp is checked for age
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, ts, message.payload),
            TIMESTAMP_HEADER: str(ts),
            ID_HEADER: message.alerts[0].id,
        }
        return await post(ctx.http, address.key, message.payload, headers)

    def classify(self, exc: Exception) -> Failure | None:
        return classify_http(exc)


CHANNEL = Webhook()


async def deliver_webhook(
    alert: Alert,
    target: str,
    secret: str,
    *,
    session: aiohttp.ClientSession | None = None,
    attempts: int = CHANNEL.attempts,
    backoff: Backoff = DELIVERY,
    timeout_s: float = 10.0,
    dead_letter: DeadLetterSink | None = None,
) -> DeliveryResult:
    """One alert to one webhook outside the dispatcher (with retries, then the dead letter)."""
    own = session is None
    http = session or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s))
    ctx = Context(Config(webhook_secret=secret), http, {})
    spec = CHANNEL.validate(Target(kind=CHANNEL.kind, fields={"url": target}))
    (message,) = CHANNEL.render(spec, [alert], "", ctx)
    try:
        return await deliver(
            CHANNEL,
            spec,
            CHANNEL.address(spec, "", ctx),
            message,
            ctx,
            attempts=attempts,
            backoff=backoff,
            dead_letter=dead_letter,
        )
    finally:
        if own:
            await http.close()
