"""The signed webhook channel: POST the alert JSON, signed per subscription (Standard Webhooks).

Each subscription signs with its own key, derived from the master `webhook_secret` and the
subscription's name (its id): `subscriptions add` shows it once, as a Standard Webhooks secret
(`whsec_<base64>`). A receiver holds only its own key, so it cannot forge another subscription's
messages (issue 27: one key signed every subscriber's). The headers are Standard Webhooks':
`webhook-id` (the alert id: the same on every retry, what receivers dedupe on), `webhook-timestamp`
and `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, so the id is signed
and any Standard Webhooks library verifies it; receivers reject old timestamps (replay). The old
`X-Newswire-Signature` (one shared key) is gone; `X-Newswire-Alert-Id` still carries the id. One
POST per alert: a machine gets each rule's alert of a story update, a person's channels get one
message naming them all.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import time
from collections.abc import Sequence

from pydantic import Field

from schemas import Alert, Target
from services.common.outbound import Outbound
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
    outbound_client,
    post,
)

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
OLD_ID_HEADER = "X-Newswire-Alert-Id"
KEY_PREFIX = "whsec_"


def subscriber_key(master: str, subscription: str) -> str:
    """The signing key of one subscription: HMAC-SHA256 of the master secret and its name, as a
    Standard Webhooks secret. One-way: a subscription's key tells nothing of another's."""
    raw = hmac.new(
        master.encode(), b"newswire webhook key v1\x00" + subscription.encode(), hashlib.sha256
    ).digest()
    return KEY_PREFIX + base64.b64encode(raw).decode()


def _key_bytes(key: str) -> bytes:
    return base64.b64decode(key.removeprefix(KEY_PREFIX), validate=True)


def sign(key: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(_key_bytes(key), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify(
    key: object,
    msg_id: object,
    timestamp: object,
    body: object,
    signature: object,
    now: float,
    tolerance_s: float = 300,
) -> bool:
    """For receivers: constant-time check of the signature (any of the space-separated ones) and
    of the timestamp's freshness. Total: any input that is not a valid signature is False, never
    an exception (a non-ASCII header once raised TypeError)."""
    if not (
        isinstance(key, str)
        and isinstance(msg_id, str)
        and isinstance(timestamp, str)
        and isinstance(body, bytes | bytearray)
        and isinstance(signature, str)
    ):
        return False
    fresh = timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 20
    if not fresh or abs(now - int(timestamp)) > tolerance_s:
        return False
    try:
        expected = sign(key, msg_id, int(timestamp), bytes(body)).encode()
    except (binascii.Error, ValueError):  # not a key
        return False
    given = [s.encode("utf-8", "replace") for s in signature.split(" ") if s]
    return any(hmac.compare_digest(g, expected) for g in given)


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
        # scope: each subscription's copy is signed with its own key, so none is deduplicated
        return Address(spec.url, label_of(self.kind, spec.url), (spec.url,), missing, scope=sub)

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
        key = subscriber_key(ctx.config.webhook_secret or "", address.scope)
        msg_id = message.alerts[0].id
        ts = int(time.time())  # each attempt signs afresh: its timestamp is checked for age
        headers = {
            "Content-Type": "application/json",
            ID_HEADER: msg_id,
            TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: sign(key, msg_id, ts, message.payload),
            OLD_ID_HEADER: msg_id,
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
    subscription: str = "direct",
    session: Outbound | None = None,
    allow: Sequence[str] = (),
    attempts: int = CHANNEL.attempts,
    backoff: Backoff = DELIVERY,
    timeout_s: float = 10.0,
    dead_letter: DeadLetterSink | None = None,
) -> DeliveryResult:
    """One alert to one webhook outside the dispatcher (with retries, then the dead letter), signed
    with `subscription`'s key; `allow`: the internal networks it may reach (`outbound_allow`)."""
    config = Config(webhook_secret=secret, outbound_allow=tuple(allow), http_timeout_s=timeout_s)
    spec = CHANNEL.validate(Target(kind=CHANNEL.kind, fields={"url": target}))
    async with contextlib.AsyncExitStack() as stack:
        http = (
            session
            if session is not None
            else await stack.enter_async_context(outbound_client(config))
        )
        ctx = Context(config, http, {})
        (message,) = CHANNEL.render(spec, [alert], subscription, ctx)
        return await deliver(
            CHANNEL,
            spec,
            CHANNEL.address(spec, subscription, ctx),
            message,
            ctx,
            attempts=attempts,
            backoff=backoff,
            dead_letter=dead_letter,
        )
