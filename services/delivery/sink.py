"""Redis delivery: one Lua script per alert, so a re-processed alert reaches subscribers once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from schemas import Alert
from services.common.redisconn import make_redis
from services.common.settings import Settings
from services.common.topics import RedisKeys
from services.delivery.subscriptions import FanOut, alert_countries

# KEYS: dedupe key, stream. ARGV: ttl, maxlen, payload, id, severity, rule, channels...
DELIVER_LUA = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*',
                        'id', ARGV[4], 'severity', ARGV[5], 'rule', ARGV[6], 'alert', ARGV[3])
  for i = 7, #ARGV do redis.call('PUBLISH', ARGV[i], ARGV[3]) end
  return id
end
return false
"""


# The story's check-and-set and its alerts' delivery, atomically: the alerts worker read the
# bucket's version with the stories, decided (pure), and commits only if no other worker changed
# the bucket since (else it reads again and decides again). The story record carries what each
# rule alerted at which severity, so a copy read by any replica, or after a restart, alerts only
# when the severity rises. Every story key expires a story window after its last article.
# KEYS: bucket version, bucket index (zset by article time), story record, story's articles,
#       stream, then one dedupe key per alert.
# ARGV: expected version, story id, record, article id, score, ttl, trim below score, maxlen,
#       dedupe ttl, then per alert: id, severity, rule, payload, channel count, channels...
STORY_LUA = """
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
  if redis.call('SET', KEYS[k], '1', 'NX', 'EX', ARGV[9]) then
    out[#out + 1] = redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[8], '*', 'id', ARGV[a],
                               'severity', ARGV[a + 1], 'rule', ARGV[a + 2], 'alert', ARGV[a + 3])
    for c = 1, n do redis.call('PUBLISH', ARGV[a + 4 + c], ARGV[a + 3]) end
  else
    out[#out + 1] = ''
  end
  a = a + 5 + n
end
return out
"""


@dataclass(frozen=True)
class StoryRead:
    """What the alerts worker decides from: the bucket's version, and each open story's record
    with whether the article is already in it (a redelivery)."""

    version: str
    stories: list[tuple[str, bytes, bool]]


@dataclass(frozen=True)
class StoryCommit:
    """One article's decision to write: its story's new record and the alerts it raises, valid
    only if the bucket is still at `version`."""

    bucket: str
    version: str
    story_id: str
    record: str
    article_id: str
    score: float
    ttl_s: int
    alerts: list[Alert]


def story_key(keys: RedisKeys, story_id: str) -> str:
    """A story's record (JSON); `<key>:articles` is the set of its article ids."""
    return f"{keys.prefix}:story:{story_id}"


def channels_for(alert: Alert, keys: RedisKeys) -> list[str]:
    return [
        keys.all_alerts,
        keys.severity(alert.severity),
        keys.rule(alert.rule_id),
        *(keys.country(c) for c in alert_countries(alert)),
        *(keys.named(c) for c in alert.channels),  # the extra channels a rule names
    ]


class RedisDelivery:
    def __init__(self, client: aioredis.Redis, keys: RedisKeys, *, ttl_s: int, maxlen: int) -> None:
        self.client = client
        self.keys = keys
        self.ttl_s = ttl_s
        self.maxlen = maxlen
        self._script: Any = client.register_script(DELIVER_LUA)

    async def deliver(self, alert: Alert) -> str | None:
        """Returns the stream entry id, or None when this alert id was delivered before."""
        return _entry_id(await self._script(**self._call(alert)))

    async def deliver_many(self, alerts: Sequence[Alert]) -> list[str | None]:
        """`deliver` for each alert in one round trip (a pipeline of script calls, in order)."""
        if len(alerts) <= 1:
            return [await self.deliver(a) for a in alerts]
        async with self.client.pipeline(transaction=False) as pipe:
            for alert in alerts:
                await self._script(**self._call(alert), client=pipe)
            return [_entry_id(r) for r in await pipe.execute()]

    def _call(self, alert: Alert) -> dict[str, Any]:
        return {
            "keys": [self.keys.dedupe(alert.id), self.keys.stream],
            "args": [
                self.ttl_s,
                self.maxlen,
                alert.model_dump_json(),
                alert.id,
                alert.severity,
                alert.rule_id,
                *channels_for(alert, self.keys),
            ],
        }


class StoryDelivery:
    """Shared story state in Redis, for any number of alerts replicas (see STORY_LUA)."""

    def __init__(
        self, client: aioredis.Redis, keys: RedisKeys, *, dedupe_ttl_s: int, maxlen: int
    ) -> None:
        self.client = client
        self.keys = keys
        self.dedupe_ttl_s = dedupe_ttl_s
        self.maxlen = maxlen
        self._script: Any = client.register_script(STORY_LUA)

    def _bucket(self, bucket: str) -> tuple[str, str]:
        base = f"{self.keys.prefix}:stories:{bucket}"
        return f"{base}:version", f"{base}:index"

    def story_key(self, story_id: str) -> str:
        return story_key(self.keys, story_id)

    async def read_many(
        self, wanted: Sequence[tuple[str, str, float]], window_s: float, limit: int
    ) -> list[StoryRead]:
        """For each (bucket, article id, score): the bucket's version, then the records of its
        stories active within the window of `score` (the article's time), most recent first, each
        with whether the article is in it. Two round trips however many: the versions and story
        ids of every bucket in one transaction, then every record."""
        async with self.client.pipeline(transaction=True) as pipe:
            for bucket, _, score in wanted:
                ver_key, idx_key = self._bucket(bucket)
                pipe.get(ver_key)
                pipe.zrevrangebyscore(
                    idx_key, score + window_s, score - window_s, start=0, num=limit
                )
            heads = await pipe.execute()
        versions, id_lists = heads[::2], heads[1::2]
        got: list[Any] = []
        if any(id_lists):
            async with self.client.pipeline(transaction=False) as pipe:
                for (_, article_id, _), ids in zip(wanted, id_lists, strict=True):
                    for sid in ids:
                        key = self.story_key(_text(sid))
                        pipe.get(key)
                        pipe.sismember(f"{key}:articles", article_id)
                got = await pipe.execute()
        out = []
        at = 0
        for version, ids in zip(versions, id_lists, strict=True):
            mine, at = got[at : at + 2 * len(ids)], at + 2 * len(ids)
            stories = [
                (_text(sid), rec, bool(member))
                for sid, rec, member in zip(ids, mine[::2], mine[1::2], strict=True)
                if rec is not None
            ]
            out.append(StoryRead(_text(version), stories))
        return out

    async def commit_many(self, changes: Sequence[StoryCommit]) -> list[list[str | None] | None]:
        """Write each story and deliver its new alerts, one script each (in one round trip), which
        checks its own bucket: None when the bucket changed since `read_many` (decide again), else
        each alert's stream entry id, None for a repeat."""
        if len(changes) <= 1:  # a pipeline of scripts costs a SCRIPT EXISTS round trip more
            results = [await self._script(**self._call(c)) for c in changes]
        else:
            async with self.client.pipeline(transaction=False) as pipe:
                for change in changes:
                    await self._script(**self._call(change), client=pipe)
                results = await pipe.execute()
        return [
            None if not result or int(result[0]) == 0 else [_entry_id(r) for r in result[1:]]
            for result in results
        ]

    def _call(self, c: StoryCommit) -> dict[str, Any]:
        ver_key, idx_key = self._bucket(c.bucket)
        key = self.story_key(c.story_id)
        args: list[Any] = [
            c.version,
            c.story_id,
            c.record,
            c.article_id,
            c.score,
            c.ttl_s,
            c.score - c.ttl_s,
            self.maxlen,
            self.dedupe_ttl_s,
        ]
        for alert in c.alerts:
            channels = channels_for(alert, self.keys)
            payload = alert.model_dump_json()
            args += [alert.id, alert.severity, alert.rule_id, payload, len(channels), *channels]
        dedupe = [self.keys.dedupe(a.id) for a in c.alerts]
        return {
            "keys": [ver_key, idx_key, key, f"{key}:articles", self.keys.stream, *dedupe],
            "args": args,
        }


def _text(value: Any) -> str:
    if value is None:
        return "0"
    return value.decode() if isinstance(value, bytes) else str(value)


def _entry_id(result: Any) -> str | None:
    if not result:
        return None
    return result.decode() if isinstance(result, bytes) else str(result)


class AlertSink:
    """Everything a subscriber sees of one alert: the stream and the all-alerts channel once
    (Lua dedupe), then the filtered and named-subscription channels. Shared by the alerts and
    trends workers."""

    def __init__(self, settings: Settings) -> None:
        client = make_redis(settings)
        keys = RedisKeys(settings.redis_prefix)
        self.delivery = RedisDelivery(
            client, keys, ttl_s=settings.alert_dedupe_ttl_s, maxlen=settings.alerts_stream_maxlen
        )
        self.fanout = FanOut(client, keys, window_s=settings.digest_window_s)

    async def deliver(self, alert: Alert) -> None:
        await self.deliver_many([alert])

    async def deliver_many(self, alerts: Sequence[Alert]) -> None:
        """One round trip for the stream and channels of all; then each first delivery's fan-out."""
        for alert, entry in zip(alerts, await self.delivery.deliver_many(alerts), strict=True):
            if entry is not None:  # first delivery only
                await self.fanout.publish(alert)
