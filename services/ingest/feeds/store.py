"""Feed configuration, state and seen entries in Redis, so they survive restarts of the ingest service."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

import redis.asyncio as aioredis

from services.common.topics import RedisKeys
from services.ingest.feeds.health import FeedConfig, FeedState, feed_key

SEEN_KEPT = 5000  # per feed; far more than any feed lists at once
OPS_STREAM_MAXLEN = 10_000


class FeedStore:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.keys = RedisKeys(prefix)

    @property
    def feeds_key(self) -> str:
        return self.keys.feeds

    def _state_key(self, url: str) -> str:
        return self.keys.feed_state(feed_key(url))

    def _seen_key(self, url: str) -> str:
        return self.keys.feed_seen(feed_key(url))

    @property
    def ops_channel(self) -> str:
        return self.keys.ops

    @property
    def ops_stream(self) -> str:
        return self.keys.ops_stream

    async def add(self, cfg: FeedConfig) -> bool:
        """True when the feed is new; an existing feed keeps its state and gets the new settings."""
        old = await self.client.hget(self.feeds_key, cfg.url)
        if old is not None:
            cfg = cfg.model_copy(update={"added_at": FeedConfig.model_validate_json(old).added_at})
        await self.client.hset(self.feeds_key, cfg.url, cfg.model_dump_json())
        return old is None

    async def remove(self, url: str) -> bool:
        removed = await self.client.hdel(self.feeds_key, url)
        await self.client.delete(self._state_key(url), self._seen_key(url))
        return bool(removed)

    async def feeds(self) -> list[FeedConfig]:
        raw = await self.client.hgetall(self.feeds_key)
        return sorted(
            (FeedConfig.model_validate_json(v) for v in raw.values()), key=lambda c: c.url
        )

    async def state(self, url: str) -> FeedState:
        raw = await self.client.get(self._state_key(url))
        return FeedState.model_validate_json(raw) if raw else FeedState()

    async def states(self, urls: list[str]) -> list[FeedState]:
        """Many feeds' states in one round trip (the poller checks every feed each tick)."""
        if not urls:
            return []
        raws = await self.client.mget([self._state_key(u) for u in urls])
        return [FeedState.model_validate_json(r) if r else FeedState() for r in raws]

    async def save_state(self, url: str, st: FeedState) -> None:
        await self.client.set(self._state_key(url), st.model_dump_json())

    async def unseen(self, url: str, ids: list[str]) -> list[str]:
        if not ids:
            return []
        scores = await self.client.zmscore(self._seen_key(url), ids)
        return [i for i, s in zip(ids, scores, strict=True) if s is None]

    async def mark_seen(self, url: str, ids: Iterable[str], at: datetime) -> None:
        ids = list(ids)
        if not ids:
            return
        key = self._seen_key(url)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zadd(key, dict.fromkeys(ids, at.timestamp()))
            pipe.zremrangebyrank(key, 0, -SEEN_KEPT - 1)
            await pipe.execute()

    async def raise_ops(self, event: dict[str, object]) -> None:
        """An operational alert: on the ops channel for listeners, in the ops stream for history."""
        payload = json.dumps(event, default=str)
        await self.client.xadd(
            self.ops_stream, {"event": payload}, maxlen=OPS_STREAM_MAXLEN, approximate=True
        )
        await self.client.publish(self.ops_channel, payload)
