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
from services.delivery.sink import StoryCommit, StoryDelivery, StoryRead

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
        return (await self.settle_all([p]))[0]

    async def settle_all(self, proposals: Sequence[Proposal]) -> list[Settled]:
        """Each article as if settled one after the other, in rounds of a few round trips each:
        a round takes the first unsettled article of every bucket (an article may join the story
        the previous one of its bucket opened, so a bucket's articles go in order), reads their
        buckets together, decides each, and commits them together; an article whose bucket
        another replica changed in between goes again in the next round."""
        out: list[Settled | None] = [None] * len(proposals)
        tries = [0] * len(proposals)
        window_s = self.rules.window.total_seconds()
        pending = list(range(len(proposals)))
        while pending:
            batch, taken = [], set()
            for i in pending:  # the first unsettled article of each bucket
                if proposals[i].sig.bucket not in taken:
                    taken.add(proposals[i].sig.bucket)
                    batch.append(i)
            sigs = [proposals[i].sig for i in batch]
            wanted = [(sig.bucket, sig.article_id, sig.at.timestamp()) for sig in sigs]
            reads = await self.delivery.read_many(wanted, window_s, MAX_CANDIDATES)
            changes: list[tuple[int, StoryView, StoryCommit]] = []
            for i, read in zip(batch, reads, strict=True):
                decided = self._decide(proposals[i], read)
                if isinstance(decided, Settled):
                    out[i] = decided
                else:
                    changes.append((i, *decided))
            results = await self.delivery.commit_many([c for _, _, c in changes])
            for (i, story, change), entries in zip(changes, results, strict=True):
                if entries is not None:
                    out[i] = Settled(change.article_id, change.alerts, entries, story, False)
                    continue
                self.conflicts += 1
                tries[i] += 1
                if tries[i] >= MAX_TRIES:
                    bucket = proposals[i].sig.bucket
                    raise Contended(f"story bucket {bucket!r} changed {MAX_TRIES} times in a row")
            pending = [i for i in pending if out[i] is None]
        return [s for s in out if s is not None]

    def _decide(self, p: Proposal, read: StoryRead) -> Settled | tuple[StoryView, StoryCommit]:
        """What the article does to its bucket as read: a redelivery settles at once (the same
        alerts again, delivered before); else the story it opens or joins, and the commit of it
        and its alerts, valid if the bucket has not changed."""
        sig = p.sig
        art = sig.article_id
        views = [StoryView.from_record(json.loads(rec)) for _, rec, _ in read.stories]
        member = next((v for v, (_, _, m) in zip(views, read.stories, strict=True) if m), None)
        if member is not None:
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
        change = StoryCommit(
            bucket=sig.bucket,
            version=read.version,
            story_id=story.id,
            record=json.dumps(story.to_record(), separators=(",", ":")),
            article_id=art,
            score=sig.at.timestamp(),
            ttl_s=self.ttl_s,
            alerts=alerts,
        )
        return story, change


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
