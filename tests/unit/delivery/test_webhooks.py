"""Webhook signing, and the one retry loop every channel sends with."""

from __future__ import annotations

import base64
import time

import aiohttp
import pytest

from services.common.outbound import Blocked
from services.common.retrying import Backoff
from services.delivery.retry import DeliveryResult, HttpStatus, classify_http, with_retries
from services.delivery.webhooks import sign, subscriber_key, verify

FAST = Backoff(base_s=0.02, cap_s=0.04, jitter=0.25)


KEY = subscriber_key("s3cret", "desk")


def test_signature_round_trip_and_tampering() -> None:
    body = b'{"id":"a1"}'
    sig = sign(KEY, "a1", 1_700_000_000, body)
    assert sig.startswith("v1,") and len(base64.b64decode(sig[3:])) == 32
    assert verify(KEY, "a1", "1700000000", body, sig, now=1_700_000_010)
    assert verify(KEY, "a1", "1700000000", body, f"v1,AAAA {sig}", now=1_700_000_010)  # rotation
    assert not verify(KEY, "a1", "1700000000", body + b" ", sig, now=1_700_000_010)
    assert not verify(KEY, "a2", "1700000000", body, sig, now=1_700_000_010)  # the id is signed
    assert not verify(KEY, "a1", "1700000001", body, sig, now=1_700_000_010)
    assert not verify(KEY, "a1", "1700000000", body, sig, now=1_700_009_999)  # too old
    assert not verify(KEY, "a1", "nan", body, sig, now=1_700_000_010)


def test_each_subscription_has_its_own_key_and_cannot_forge_another() -> None:
    """Issue 27: one key signed every subscriber's webhooks, so any receiver could forge to any
    other. A receiver holds its subscription's key only: what it signs fails for the others."""
    other = subscriber_key("s3cret", "ops")
    assert subscriber_key("s3cret", "desk") == KEY != other  # derived, stable
    assert subscriber_key("another-master", "desk") != KEY
    assert KEY.startswith("whsec_") and len(base64.b64decode(KEY[6:])) == 32
    forged = sign(KEY, "a1", 1_700_000_000, b"{}")
    assert not verify(other, "a1", "1700000000", b"{}", forged, now=1_700_000_000)
    assert not verify("s3cret", "a1", "1700000000", b"{}", forged, now=1_700_000_000)


def test_standard_webhooks_reference_vector() -> None:
    """The example of the Standard Webhooks specification: any of its libraries verifies ours."""
    key = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    sig = sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize(
    "args",
    [
        (KEY, "a1", "1700000000", b"{}", "v1,\u00e9\u00e9"),  # non-ASCII: once a TypeError
        (KEY, "a1", "1700000000", b"{}", "sha256=\udcff"),  # a lone surrogate
        (KEY, "a1", "1700000000", b"{}", b"v1,abc"),  # bytes
        (KEY, "a1", "1700000000", b"{}", None),
        (KEY, "a1", "\u0661\u0667\u0660\u0660", b"{}", "v1,x"),  # Arabic-Indic digits
        (KEY, None, "1700000000", b"{}", "v1,x"),
        (KEY, "a1", "1700000000", "{}", "v1,x"),  # body as text
        ("whsec_not base64!", "a1", "1700000000", b"{}", "v1,x"),
        (123, "a1", "1700000000", b"{}", "v1,x"),
        (KEY, "a1", "9" * 5000, b"{}", "v1,x"),
        (KEY, "a1", "1700000000", b"{}", ""),
    ],
)
def test_verify_is_total(args: tuple[object, ...]) -> None:
    assert verify(*args, now=1_700_000_000) is False


class Script:
    """A send that fails with the given errors, in order, then succeeds (records when)."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.at: list[float] = []

    async def __call__(self) -> None:
        self.at.append(time.monotonic())
        if self.errors:
            raise self.errors.pop(0)


async def _run(send: Script, attempts: int = 5, **kw: float) -> DeliveryResult:
    return await with_retries(send, classify_http, label="t", attempts=attempts, backoff=FAST, **kw)


async def test_transient_errors_are_retried_within_the_policy_bounds() -> None:
    send = Script(HttpStatus(503), aiohttp.ClientConnectionError("refused"), HttpStatus(408))
    r = await _run(send)
    assert r.delivered and r.attempts == 4
    assert r.errors == ["HTTP 503", "ClientConnectionError: refused", "HTTP 408"]
    waits = [b - a for a, b in zip(send.at, send.at[1:], strict=False)]
    for n, w in enumerate(waits, start=1):  # jitter: between the raw wait and 25 % more
        raw = min(FAST.cap_s, FAST.base_s * 2 ** (n - 1))
        assert raw - 0.005 <= w <= raw * 1.25 + 0.05, (n, w)


async def test_permanent_4xx_is_not_retried_and_attempts_are_capped() -> None:
    r = await _run(Script(HttpStatus(401)))
    assert not r.delivered and r.attempts == 1 and r.status == 401
    r = await _run(Script(*[HttpStatus(500)] * 9), attempts=3)
    assert not r.delivered and r.attempts == 3


async def test_429_retry_after_is_waited_or_dead_lettered_when_too_long() -> None:
    send = Script(HttpStatus(429, retry_after=0.3))
    r = await _run(send)
    assert r.delivered and r.attempts == 2
    assert send.at[1] - send.at[0] >= 0.29  # the receiver's wait, not the backoff's 0.02 s
    r = await _run(Script(HttpStatus(429, retry_after=3600)), max_retry_after_s=60)
    assert not r.delivered and r.attempts == 1
    assert "exceeds" in r.errors[-1]


async def test_a_blocked_address_is_permanent_and_named() -> None:
    """The outbound guard's refusal (an OSError, like a refused connection) is not retried."""
    r = await _run(Script(Blocked("127.0.0.1 is loopback; add it to NEWSWIRE_OUTBOUND_ALLOW")))
    assert not r.delivered and r.attempts == 1
    assert r.errors == ["blocked address: 127.0.0.1 is loopback; add it to NEWSWIRE_OUTBOUND_ALLOW"]


async def test_an_error_no_channel_knows_is_raised() -> None:
    with pytest.raises(KeyError):
        await _run(Script(KeyError("bug")))
