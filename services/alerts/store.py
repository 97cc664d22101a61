"""Durable, shared story state: the alerts worker's stories live in Redis, not in its memory.

Per article: read the open stories of its bucket (the event location's country) with the bucket's
version, decide with the pure functions of stories.py (which story, which alerts), then commit the
story and deliver the alerts in one Lua script that checks the version (services/delivery/sink.py,
`STORY_LUA`). When another replica changed the bucket in between, read and decide again. So a
restart, a rebalance or N replicas never raise a second alert for the same (story, rule,
severity): what each rule alerted at which severity is part of the story record, written in the
same script as the alert's XADD/PUBLISH.

Memory: one record per open story (JSON, ~0.6-1 kB), its article ids, one index entry; all expire
a story window after the story's last article (`bytes_per_story` measures it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from schemas import Alert
from services.alerts.core import Proposal, alerts_of
from services.alerts.stories import (
    MAX_CANDIDATES,
    Rules,
    StoryView,
    choose,
    decide,
    live,
)
from services.delivery.sink import StoryDelivery

MAX_TRIES = 50


class Contended(RuntimeError):
    """The bucket kept changing under us: a transient error, the record is processed again."""


@dataclass(frozen=True)
class Settled:
    """One article's outcome: the alerts it raised (or raises again, when redelivered), their
    stream entry ids (None: delivered before), and its story."""

    article_id: str
    alerts: list[Alert]
    entries: list[str | None]
    story: StoryView
    redelivered: bool

    @property
    def opens_story(self) -> bool:
        """The article opened its story (trends count stories, not copies)."""
        return self.story.id == self.article_id


class RedisStories:
    def __init__(self, delivery: StoryDelivery, rules: Rules | None = None) -> None:
        self.delivery = delivery
        self.rules = rules or Rules()
        self.conflicts = 0  # commits retried because another replica changed the bucket

    @property
    def ttl_s(self) -> int:
        return int(self.rules.window.total_seconds()) * 2

    async def settle(self, p: Proposal) -> Settled:
        sig = p.sig
        art = sig.article_id
        score = sig.at.timestamp()
        window_s = self.rules.window.total_seconds()
        for _ in range(MAX_TRIES):
            read = await self.delivery.read(sig.bucket, art, score, window_s, MAX_CANDIDATES)
            views = [StoryView.from_record(json.loads(rec)) for _, rec, _ in read.stories]
            member = next((v for v, (_, _, m) in zip(views, read.stories, strict=True) if m), None)
            if member is not None:  # redelivered: the same alerts again, already delivered
                decisions = decide(member, p.proposed, art, sig.at, self.rules.window, True)
                alerts = alerts_of(p, member, decisions)
                return Settled(art, alerts, [None] * len(alerts), member, True)
            story = choose(sig, live(views, sig.at, self.rules.window), self.rules)
            if story is None:
                story = StoryView.open(sig)
            else:
                story.join(sig)
            decisions = decide(story, p.proposed, art, sig.at, self.rules.window, False)
            alerts = alerts_of(p, story, decisions)
            entries = await self.delivery.commit(
                bucket=sig.bucket,
                version=read.version,
                story_id=story.id,
                record=json.dumps(story.to_record(), separators=(",", ":")),
                article_id=art,
                score=score,
                ttl_s=self.ttl_s,
                alerts=alerts,
            )
            if entries is not None:
                return Settled(art, alerts, entries, story, False)
            self.conflicts += 1
        raise Contended(f"story bucket {sig.bucket!r} changed {MAX_TRIES} times in a row")

    async def settle_all(self, proposals: Sequence[Proposal]) -> list[Settled]:
        """In order: an article may join the story the previous one opened."""
        return [await self.settle(p) for p in proposals]


async def bytes_per_story(client: aioredis.Redis, prefix: str) -> tuple[int, float]:
    """(open stories, mean bytes each) of the story keys under `prefix`, by MEMORY USAGE of each
    record, its article set and its share of the bucket indexes and versions."""
    stories = 0
    total = 0
    async for key in client.scan_iter(match=f"{prefix}:story:*", count=1000):
        total += int(await client.memory_usage(key, samples=0) or 0)
        if not key.endswith(b":articles"):
            stories += 1
    async for key in client.scan_iter(match=f"{prefix}:stories:*", count=1000):
        total += int(await client.memory_usage(key, samples=0) or 0)
    return stories, (total / stories if stories else 0.0)
