"""The one retry policy: its waits grow, are capped, carry bounded jitter, and the loops stop."""

from __future__ import annotations

import random

import pytest

from services.common.retrying import Backoff


def test_delays_grow_and_are_capped_with_bounded_jitter() -> None:
    b = Backoff(base_s=1.0, cap_s=8.0, jitter=0.25)
    got = b.delays(7, random.Random(1))
    assert len(got) == 6
    raw = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    for d, r in zip(got, raw, strict=True):
        assert r <= d <= r * 1.25


def test_jitter_spreads_replicas() -> None:
    b = Backoff(base_s=1.0, cap_s=8.0, jitter=0.5)
    firsts = {round(b.delay(3, random.Random(seed)), 6) for seed in range(20)}
    assert len(firsts) > 10  # not in lock step


def test_no_jitter_is_exact() -> None:
    assert Backoff(base_s=0.5, cap_s=2.0, jitter=0.0).delays(5) == [0.5, 1.0, 2.0, 2.0]


def test_sync_loop_retries_then_reraises() -> None:
    calls = []
    policy = Backoff(base_s=0.0, cap_s=0.0)
    with pytest.raises(ConnectionError):
        for attempt in policy.retrying((ConnectionError,), attempts=3):
            with attempt:
                calls.append(1)
                raise ConnectionError("away")
    assert len(calls) == 3


async def test_async_loop_does_not_retry_other_errors() -> None:
    calls = []
    policy = Backoff(base_s=0.0, cap_s=0.0)
    with pytest.raises(ValueError):
        async for attempt in policy.async_retrying((ConnectionError,), attempts=5):
            with attempt:
                calls.append(1)
                raise ValueError("deterministic")
    assert len(calls) == 1
