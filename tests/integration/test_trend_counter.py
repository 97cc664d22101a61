"""Trend counts on a real redis-server: once per story and window, shared by replicas, and the
same answers as the in-memory counter of the offline replay."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
import redis.asyncio as aioredis

from schemas import StoryTerms
from services.common.settings import Settings
from services.common.topics import RedisKeys
from services.trends.core import TrendConfig
from services.trends.counter import Counted, MemoryCounter, TrendCounter

pytestmark = pytest.mark.integration

CFG = replace(
    TrendConfig.from_settings(Settings()),
    window_s=60,
    baseline_windows=3,
    warmup_windows=2,
    min_count=2,
    floor=0.5,
)
W = 6000  # a window start (epoch s)


def _story(i: str, *terms: str) -> StoryTerms:
    return StoryTerms(
        article_id=i, terms=list(terms), title=f"Story {i}", severity="high", score=6.0
    )


def _plain(c: Counted) -> tuple[object, ...]:
    return (
        c.latest,
        c.totals,
        [(x.term, x.current, x.baseline, x.stories, x.covered) for x in c.candidates],
    )


async def test_counts_each_story_once_and_agrees_with_the_memory_counter(
    stack: Settings,
) -> None:
    keys = RedisKeys(f"{stack.redis_prefix}-t{uuid.uuid4().hex[:6]}")
    client = aioredis.Redis.from_url(stack.redis)
    one, replica = TrendCounter(client, keys, CFG), TrendCounter(client, keys, CFG)
    memory = MemoryCounter(CFG)
    steps: list[tuple[StoryTerms, float, int, list[str]]] = [
        (_story("old1"), W - 120 + 1, W - 120, []),  # observed windows, nothing counted
        (_story("old2"), W - 60 + 1, W - 60, []),
        (_story("a1", "place:UA"), W + 1, W, ["place:UA"]),
        (_story("a2", "place:UA"), W + 2, W, ["place:UA"]),
        (_story("a2", "place:UA"), W + 2, W, ["place:UA"]),  # a redelivered record
        (_story("late"), W - 60 + 30, W - 60, []),  # late: its own window, the latest stays
    ]
    for n, (story, at, window, terms) in enumerate(steps):
        redis_side = await (replica if n % 2 else one).count(story, at, window, terms)
        assert _plain(redis_side) == _plain(await memory.count(story, at, window, terms))
    got = await one.count(_story("a2", "place:UA"), W + 2, W, ["place:UA"])
    assert got.latest == W + 2 and got.totals == [2, 1, 0]  # the late story counted in its window
    [cand] = got.candidates
    assert (cand.term, cand.current, cand.baseline) == ("place:UA", 2, [0, 0, 0])
    assert [s.article_id for s in cand.stories] == ["a1", "a2"] and cand.covered == frozenset()
    assert cand.stories[0].title == "Story a1" and cand.stories[0].severity == "high"
    await one.mark(W, "place:UA", ["a1", "a2"])
    await memory.mark(W, "place:UA", ["a1", "a2"])
    third = (_story("a3", "place:UA", "actors:RU>UA"), W + 3, W, ["place:UA", "actors:RU>UA"])
    assert _plain(await one.count(*third)) == _plain(await memory.count(*third))
    assert (await one.count(*third)).candidates == []  # alerted; RU>UA has 1 < min_count
    assert await client.hget(keys.trend_counts(W), "place:UA") == b"3"
    assert await client.hget(keys.trend_counts(W), "#") == b"3"
    ttl = await client.ttl(keys.trend_counts(W))
    assert 0 < ttl <= 60 * (3 + 2)
    await client.aclose()
