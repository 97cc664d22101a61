"""The two drivers of `StoryStore` (services/alerts/stories.py): the open stories in this process's
memory (`analyze`, backtests, the evaluation, the benches) or in Redis (the alerts workers).

Both read an article's bucket (the event location's country) with its version, and commit a
decision only if the bucket is still at that version: the engine (core.py `StoryEngine`) decides
again when another replica changed it in between. So a restart, a rebalance or N replicas never
raise a second alert for the same (story, rule, severity): what each rule alerted at which severity
is part of the story record, written in the same step as the alert's delivery.

Redis memory: one record per open story (compact JSON, ~0.6-1 kB), its article ids, one index
entry; all expire two story windows after the story's last article (`bytes_per_story`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from schemas import Story
from services.alerts.stories import (
    MAX_CANDIDATES,
    Rules,
    Signature,
    StoryChange,
    StoryRead,
    StoryView,
)
from services.common.topics import RedisKeys
from services.delivery.sink import DELIVER_FN, channels_for, entry_id


# ---- memory -------------------------------------------------------------------------------
class MemoryStories:
    """Open stories by bucket, in one process. An article is a redelivery while its story is
    open; stories idle for two windows are forgotten, so memory stays bounded on an endless
    stream. The bucket versions make a race of two engines over one store behave as in Redis."""

    def __init__(self, rules: Rules | None = None) -> None:
        self.rules = rules or Rules()
        self.stories: dict[str, StoryView] = {}
        self.by_bucket: dict[str, set[str]] = {}
        self.story_of_article: dict[str, str] = {}
        self.articles_of: dict[str, set[str]] = {}
        self.versions: dict[str, int] = {}
        self.delivered: set[str] = set()  # alert ids, as delivery's dedupe keys
        self._pruned_at: datetime | None = None

    async def read_many(self, sigs: Sequence[Signature]) -> list[StoryRead]:
        return [self.read(sig) for sig in sigs]

    def read(self, sig: Signature) -> StoryRead:
        self.prune(sig.at)
        version = str(self.versions.get(sig.bucket, 0))
        known = self.story_of_article.get(sig.article_id)
        if known is not None and known in self.stories:
            return StoryRead(version, [], self.stories[known])
        ids = self.by_bucket.get(sig.bucket, ())
        return StoryRead(version, [self.stories[i] for i in ids])

    async def commit_many(self, changes: Sequence[StoryChange]) -> list[list[str | None] | None]:
        return [self.commit(c) for c in changes]

    def commit(self, c: StoryChange) -> list[str | None] | None:
        bucket = c.sig.bucket
        version = self.versions.get(bucket, 0)
        if str(version) != c.version:
            return None
        self.versions[bucket] = version + 1
        story = c.story
        self.stories[story.id] = story
        self.by_bucket.setdefault(story.bucket, set()).add(story.id)
        self.story_of_article[c.sig.article_id] = story.id
        self.articles_of.setdefault(story.id, set()).add(c.sig.article_id)
        entries: list[str | None] = []
        for alert in c.alerts:
            first = alert.id not in self.delivered
            self.delivered.add(alert.id)
            entries.append(f"{len(self.delivered)}-0" if first else None)
        return entries

    def prune(self, now: datetime) -> None:
        """Forget stories idle for two windows (checked every twelfth of a window)."""
        window = self.rules.window
        if self._pruned_at is not None and abs(now - self._pruned_at) < window / 12:
            return
        self._pruned_at = now
        old = [s for s in self.stories.values() if now - s.last_seen > 2 * window]
        for s in old:
            del self.stories[s.id]
            for a in self.articles_of.pop(s.id, ()):
                self.story_of_article.pop(a, None)
            for ids in self.by_bucket.values():
                ids.discard(s.id)
        if old:
            self.by_bucket = {b: ids for b, ids in self.by_bucket.items() if ids}


# ---- Redis --------------------------------------------------------------------------------
# The story's check-and-set and its alerts' delivery, atomically: the engine read the bucket's
# version with the stories, decided (pure), and commits only if no other worker changed the bucket
# since (else it reads again and decides again). Every story key expires two story windows after
# its last article. The delivery of each alert is the one `deliver` function of DELIVER_FN.
# KEYS: bucket version, bucket index (zset by the story's last article time), story record,
#       story's articles, stream, then one dedupe key per alert.
# ARGV: expected version, story id, record, article id, score, ttl, trim below score, maxlen,
#       dedupe ttl, then per alert: id, severity, rule, payload, channel count, channels...
STORY_LUA = (
    DELIVER_FN
    + """
local v = redis.call('GET', KEYS[1]) or '0'
if v ~= ARGV[1] then return {0} end
redis.call('SET', KEYS[1], tostring(tonumber(v) + 1), 'EX', ARGV[6])
redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[6])
redis.call('SADD', KEYS[4], ARGV[4])
redis.call('EXPIRE', KEYS[4], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[6])
local out = {1}
local a = 10
for k = 6, #KEYS do
  local n = tonumber(ARGV[a + 4])
  local entry = deliver(KEYS[k], ARGV[9], KEYS[5], ARGV[8], ARGV[a], ARGV[a + 1], ARGV[a + 2],
                        ARGV[a + 3], a + 5, a + 4 + n)
  out[#out + 1] = entry or ''
  a = a + 5 + n
end
return out
"""
)


class RedisStories:
    """Shared story state in Redis, for any number of alerts replicas (see STORY_LUA)."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: RedisKeys,
        *,
        dedupe_ttl_s: int,
        maxlen: int,
        rules: Rules | None = None,
    ) -> None:
        self.client = client
        self.keys = keys
        self.dedupe_ttl_s = dedupe_ttl_s
        self.maxlen = maxlen
        self.rules = rules or Rules()
        self._script: Any = client.register_script(STORY_LUA)

    @property
    def ttl_s(self) -> int:
        return int(self.rules.window.total_seconds()) * 2

    async def read_many(self, sigs: Sequence[Signature]) -> list[StoryRead]:
        """For each article: its bucket's version, then the records of the bucket's stories
        active within the window of the article's time, most recent first, and the one it is
        already in. Two round trips however many: the versions and story ids of every bucket in
        one transaction, then every record."""
        window_s = self.rules.window.total_seconds()
        async with self.client.pipeline(transaction=True) as pipe:
            for sig in sigs:
                score = sig.at.timestamp()
                pipe.get(self.keys.bucket_version(sig.bucket))
                pipe.zrevrangebyscore(
                    self.keys.bucket_index(sig.bucket),
                    score + window_s,
                    score - window_s,
                    start=0,
                    num=MAX_CANDIDATES,
                )
            heads = await pipe.execute()
        versions, id_lists = heads[::2], heads[1::2]
        got: list[Any] = []
        if any(id_lists):
            async with self.client.pipeline(transaction=False) as pipe:
                for sig, ids in zip(sigs, id_lists, strict=True):
                    for sid in ids:
                        pipe.get(self.keys.story(_text(sid)))
                        pipe.sismember(self.keys.story_articles(_text(sid)), sig.article_id)
                got = await pipe.execute()
        out = []
        at = 0
        for version, ids in zip(versions, id_lists, strict=True):
            mine, at = got[at : at + 2 * len(ids)], at + 2 * len(ids)
            stories: list[StoryView] = []
            member = None
            for rec, is_member in zip(mine[::2], mine[1::2], strict=True):
                if rec is None:  # expired between the two reads
                    continue
                view = StoryView.from_record(Story.model_validate_json(rec))
                stories.append(view)
                if is_member and member is None:
                    member = view
            out.append(StoryRead(_text(version), stories, member))
        return out

    async def commit_many(self, changes: Sequence[StoryChange]) -> list[list[str | None] | None]:
        """One script each (in one round trip), each checking its own bucket."""
        if len(changes) <= 1:  # a pipeline of scripts costs a SCRIPT EXISTS round trip more
            results = [await self._script(**self._call(c)) for c in changes]
        else:
            async with self.client.pipeline(transaction=False) as pipe:
                for change in changes:
                    await self._script(**self._call(change), client=pipe)
                results = await pipe.execute()
        return [
            None if not result or int(result[0]) == 0 else [entry_id(r) for r in result[1:]]
            for result in results
        ]

    def _call(self, c: StoryChange) -> dict[str, Any]:
        story, sig = c.story, c.sig
        args: list[Any] = [
            c.version,
            story.id,
            story.to_record().encode(),
            sig.article_id,
            story.last_seen.timestamp(),  # the index is ordered as stories.live orders
            self.ttl_s,
            sig.at.timestamp() - self.ttl_s,
            self.maxlen,
            self.dedupe_ttl_s,
        ]
        for alert in c.alerts:
            channels = channels_for(alert, self.keys)
            payload = alert.model_dump_json()
            args += [alert.id, alert.severity, alert.rule_id, payload, len(channels), *channels]
        return {
            "keys": [
                self.keys.bucket_version(sig.bucket),
                self.keys.bucket_index(sig.bucket),
                self.keys.story(story.id),
                self.keys.story_articles(story.id),
                self.keys.stream,
                *(self.keys.dedupe(a.id) for a in c.alerts),
            ],
            "args": args,
        }


def _text(value: Any) -> str:
    if value is None:
        return "0"
    return value.decode() if isinstance(value, bytes) else str(value)


async def bytes_per_story(client: aioredis.Redis, keys: RedisKeys) -> tuple[int, float]:
    """(open stories, mean bytes each) of the story keys under `keys`, by MEMORY USAGE of each
    record, its article set and its share of the bucket indexes and versions."""
    stories = 0
    total = 0
    async for key in client.scan_iter(match=keys.story_pattern, count=1000):
        total += int(await client.memory_usage(key, samples=0) or 0)
        if not key.endswith(b":articles"):
            stories += 1
    async for key in client.scan_iter(match=keys.bucket_pattern, count=1000):
        total += int(await client.memory_usage(key, samples=0) or 0)
    return stories, (total / stories if stories else 0.0)
