"""Trend counts on a real redis-server: once per article and window, shared by replicas."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis

from services.common.settings import Settings
from services.common.topics import RedisKeys
from services.trends.core import TrendConfig
from services.trends.counter import TrendCounter

pytestmark = pytest.mark.integration

CFG = TrendConfig(window_s=60, baseline_windows=3, factor=3.0, min_count=2)
W = 6000  # a window start (epoch s)


def _counter(stack: Settings, keys: RedisKeys) -> TrendCounter:
    return TrendCounter(aioredis.Redis.from_url(stack.redis), keys, CFG)


async def test_counts_each_article_once_and_reads_the_baseline_windows(stack: Settings) -> None:
    keys = RedisKeys(f"{stack.redis_prefix}-t{uuid.uuid4().hex[:6]}")
    one, replica = _counter(stack, keys), _counter(stack, keys)  # two trends replicas
    assert await one.count("old", W - 120, ["topic:a"], frozenset()) == []  # 1 < min_count
    assert await one.count("a1", W, ["topic:a", "country:UA"], frozenset()) == []
    got = await replica.count("a2", W, ["topic:a"], frozenset())
    assert [(c.term, c.current, c.baseline) for c in got] == [("topic:a", 2, [0, 1, 0])]
    again = await one.count("a2", W, ["topic:a"], frozenset())  # a redelivered record
    assert [(c.term, c.current) for c in again] == [("topic:a", 2)]
    assert (
        await one.count("a3", W, ["topic:a"], frozenset({"topic:a"})) == []
    )  # alerted: count only
    client = aioredis.Redis.from_url(stack.redis)
    assert await client.hget(keys.trend_counts(W), "topic:a") == b"3"
    assert await client.hget(keys.trend_counts(W), "country:UA") == b"1"
    ttl = await client.ttl(keys.trend_counts(W))
    assert 0 < ttl <= 60 * (3 + 2)
    await client.aclose()
