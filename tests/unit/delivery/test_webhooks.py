"""Webhook signing, and the one retry loop every channel sends with."""

from __future__ import annotations

import time

import aiohttp
import pytest

from services.common.retrying import Backoff
from services.delivery.retry import DeliveryResult, HttpStatus, classify_http, with_retries
from services.delivery.webhooks import sign, verify

FAST = Backoff(base_s=0.02, cap_s=0.04, jitter=0.25)


def test_signature_round_trip_and_tampering() -> None:
    body = b'{"id":"a1"}'
    sig = sign("s3cret", 1_700_000_000, body)
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    assert verify("s3cret", "1700000000", body, sig, now=1_700_000_010)
    assert not verify("s3cret", "1700000000", body + b" ", sig, now=1_700_000_010)
    assert not verify("other", "1700000000", body, sig, now=1_700_000_010)
    assert not verify("s3cret", "1700000000", body, sig, now=1_700_009_999)  # too old
    assert not verify("s3cret", "nan", body, sig, now=1_700_000_010)


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


async def test_an_error_no_channel_knows_is_raised() -> None:
    with pytest.raises(KeyError):
        await _run(Script(KeyError("bug")))
