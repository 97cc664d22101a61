"""Every target of the named subscriptions, fed from the alert stream (`newswire run webhooks`).

For each story update and each subscription it matches, each target gets it through its channel
(`channel.py`; the channels are listed in `registry.py`): paced per target, retried with the one
retry policy (a receiver's `retry_after` respected, permanent errors not retried), then
dead-lettered. A channel with a digest (e-mail) holds what is not urgent for the subscription's
period. The same target named by two subscriptions gets the update once (a webhook once per
subscription: each copy is signed with that subscription's key). Dead letters go to
`RedisKeys.dead_deliveries` with `kind` and a `target` label that never contains a secret.

Each target has its own lane (`Lanes`): its messages go in order, one at a time, and a slow or
dead target delays only itself (issue 27: one slow target held every delivery ~62 s per alert);
a stream entry is acknowledged when every lane it went to is done with it. An entry that cannot
be decoded is dead-lettered with the reason and acknowledged (it once crash-looped the process);
only Redis connection errors and timeouts are retried.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from pydantic import ValidationError
from redis.exceptions import ResponseError

from schemas import Alert, Subscription
from services.common.outbound import Outbound
from services.common.redisconn import TRANSIENT
from services.common.retrying import DELIVERY, RECONNECT, Backoff
from services.common.topics import RedisKeys
from services.delivery.channel import Address, Channel, Context, dump
from services.delivery.config import Config
from services.delivery.registry import resolve
from services.delivery.retry import (
    DeliveryResult,
    dead_record,
    deliver,
    outbound_client,
    redis_dead_letter,
)
from services.delivery.subscriptions import Sealer, SubscriptionStore, matches

__all__ = ["Config", "Deliverer", "Lanes", "Outcome", "Pacer", "dispatch", "story_updates"]

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    kind: str
    target: str  # a label, never a secret
    delivered: bool
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    queued: bool = False  # waiting for its digest


@dataclass
class Pacer:
    """At most one message per `pace_s` seconds to one target, under the platforms' limits."""

    _next: dict[str, float] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def wait(self, key: str, pace_s: float) -> None:
        if pace_s <= 0:
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            now = time.monotonic()
            at = self._next.get(key, now)
            if at > now:
                await asyncio.sleep(at - now)
            self._next[key] = max(at, now) + pace_s


class Digests:
    """The alerts a subscription's digest holds, in Redis (one JSON item per alert), so a restart
    loses none; the first item's time decides when the digest is due."""

    # KEYS: the held list. Returns and clears its items atomically.
    DRAIN_LUA = """
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return items
"""

    def __init__(self, client: aioredis.Redis, keys: RedisKeys) -> None:
        self.client = client
        self.keys = keys
        self._drain: Any = client.register_script(self.DRAIN_LUA)

    async def add(self, sub: str, alert: Alert, now: float | None = None) -> None:
        item = json.dumps({"at": time.time() if now is None else now, "alert": dump(alert)})
        await self.client.rpush(self.keys.held(sub), item)

    async def due(self, sub: str, period_s: float, now: float | None = None) -> bool:
        first: Any = await self.client.lindex(self.keys.held(sub), 0)
        if first is None:
            return False
        at = float(json.loads(first)["at"])
        return (time.time() if now is None else now) - at >= period_s

    async def take(self, sub: str) -> list[Alert]:
        items = await self._drain(keys=[self.keys.held(sub)])
        return [Alert.model_validate(json.loads(i)["alert"]) for i in items or []]


Job = Callable[[], Awaitable[Outcome]]
Key = tuple[str, ...]


@dataclass(frozen=True)
class Planned:
    """One target's part of a story update: `key` names its lane (and dedupes it)."""

    key: Key
    kind: str
    label: str
    alerts: Sequence[Alert]
    run: Job


def planned(kind: str, address: Address, alerts: Sequence[Alert], run: Job) -> Planned:
    """A message to a channel's address: its lane is the destination (and the subscription, when
    each subscription's copy differs)."""
    return Planned((kind, address.key, address.scope), kind, address.label, alerts, run)


class Lanes:
    """One FIFO lane per target, drained by its own task while it has work (no idle task): a
    target's messages go in order and a slow one delays only its own lane. A lane holds at most
    `depth` messages; one more is refused at once (`refuse`: its dead letter), so the reader never
    waits for a target and memory stays bounded."""

    def __init__(self, depth: int = 1000) -> None:
        self.depth = depth
        self._lanes: dict[Key, collections.deque[tuple[Job, asyncio.Future[Outcome]]]] = {}
        self._tasks: dict[Key, asyncio.Task[None]] = {}

    def submit(self, key: Key, job: Job, refuse: Job) -> asyncio.Future[Outcome]:
        lane = self._lanes.setdefault(key, collections.deque())
        if len(lane) >= self.depth:
            return asyncio.ensure_future(refuse())
        fut: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        lane.append((job, fut))
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._drain(key, lane))
        return fut

    def backlog(self, key: Key) -> int:
        return len(self._lanes.get(key, ()))

    async def _drain(
        self, key: Key, lane: collections.deque[tuple[Job, asyncio.Future[Outcome]]]
    ) -> None:
        try:
            while lane:
                job, fut = lane[0]
                try:
                    out = await job()
                except Exception as exc:  # a bug: this message's waiter gets it, the lane goes on
                    if not fut.done():
                        fut.set_exception(exc)
                else:
                    if not fut.done():
                        fut.set_result(out)
                lane.popleft()
        finally:
            del self._tasks[key]
            if not lane:
                self._lanes.pop(key, None)

    async def close(self) -> None:
        """Stops every lane; the messages still in them are never acknowledged (re-read)."""
        tasks = list(self._tasks.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for lane in self._lanes.values():
            for _, fut in lane:
                fut.cancel()
        self._lanes.clear()


class Deliverer:
    def __init__(
        self,
        client: aioredis.Redis,
        keys: RedisKeys,
        http: Outbound,
        config: Config,
        *,
        env: Mapping[str, str] | None = None,
        pacer: Pacer | None = None,
        attempts: int | None = None,
        backoff: Backoff = DELIVERY,
        lane_depth: int = 1000,
    ) -> None:
        self.keys = keys
        self.ctx = Context(config, http, os.environ if env is None else env)
        self.pacer = pacer or Pacer()
        self.attempts = attempts
        self.backoff = backoff
        self.dead = redis_dead_letter(client, keys.dead_deliveries)
        self.digests = Digests(client, keys)
        self.store = SubscriptionStore(client, keys, Sealer.of(config.subscription_key))
        self.lanes = Lanes(lane_depth)

    def submit(
        self, subs: Sequence[Subscription], alert: Alert, also: Sequence[Alert] = ()
    ) -> list[asyncio.Future[Outcome]]:
        """`alert`'s messages queued on their targets' lanes, in order; their outcomes to come."""
        planned: dict[Key, Planned] = {}
        group = [alert, *also]
        for sub in subs:
            mine = [a for a in group if matches(sub, a)]
            if mine:
                for p in self._plan(sub, mine, at_once=False):
                    planned.setdefault(p.key, p)
        return [self._queue(p) for p in planned.values()]

    def _queue(self, p: Planned) -> asyncio.Future[Outcome]:
        full = f"target backlog full ({self.lanes.depth} messages waiting)"
        return self.lanes.submit(p.key, p.run, self._refuse(p.kind, p.label, full, p.alerts))

    async def alert(
        self, subs: Sequence[Subscription], alert: Alert, also: Sequence[Alert] = ()
    ) -> list[Outcome]:
        """Every target of every subscription the alert matches (each target once), each on
        its lane. `also`: the other rules' alerts of the same story update: a person gets one
        message naming every rule; the signed webhook, for machines, still gets each alert."""
        return list(await asyncio.gather(*self.submit(subs, alert, also)))

    async def test(self, sub: Subscription, alert: Alert) -> list[Outcome]:
        """`subscriptions test`: one message to each target of `sub`, no digest."""
        return list(
            await asyncio.gather(*(p.run() for p in self._plan(sub, [alert], at_once=True)))
        )

    def _plan(self, sub: Subscription, alerts: Sequence[Alert], *, at_once: bool) -> list[Planned]:
        """Each target's part: only the kept ones (one per lane) are run."""
        out: list[Planned] = []
        for i, target in enumerate(sub.targets):
            try:
                channel, spec = resolve(target)
            except ValueError as exc:
                label = f"{target.kind}:{sub.name}"
                error = f"target not usable: {str(exc).splitlines()[0]}"
                run = self._refuse(target.kind, label, error, alerts)
                out.append(
                    Planned((target.kind, f"{sub.name}#{i}"), target.kind, label, alerts, run)
                )
                continue
            address = channel.address(spec, sub.name, self.ctx)
            if (
                not at_once
                and channel.digest_s(spec) is not None
                and not channel.at_once(spec, alerts[0])
            ):
                run = self._hold(channel.kind, sub.name, address, alerts[0])
            else:
                run = self._send(channel, spec, address, sub.name, alerts)
            out.append(planned(channel.kind, address, alerts, run))
        return out

    def _send(
        self,
        channel: Channel[Any],
        spec: Any,
        address: Address,
        sub: str,
        alerts: Sequence[Alert],
        *,
        digest: bool = False,
    ) -> Job:
        async def run() -> Outcome:
            done: list[DeliveryResult] = []
            for message in channel.render(spec, alerts, sub, self.ctx, digest=digest):
                if not address.error:
                    await self.pacer.wait(address.key, channel.pace_s)
                done.append(
                    await deliver(
                        channel,
                        spec,
                        address,
                        message,
                        self.ctx,
                        attempts=self.attempts,
                        backoff=self.backoff,
                        dead_letter=self.dead,
                    )
                )
            r = next((r for r in done if not r.delivered), done[-1])
            return Outcome(channel.kind, address.label, r.delivered, r.attempts, r.errors)

        return run

    def _refuse(self, kind: str, label: str, error: str, alerts: Sequence[Alert]) -> Job:
        """A message that is not sent (a stored target this version cannot use: another version's
        channel or fields; a full lane): dead-lettered, never retried; the other targets still
        get it."""

        async def run() -> Outcome:
            r = DeliveryResult(False, 0, errors=[error])
            log.warning("%s: %s", label, error)
            await self.dead(
                dead_record(
                    alert_id=",".join(a.id for a in alerts),
                    target=label,
                    result=r,
                    alert=dump(alerts[0]),
                    kind=kind,
                )
            )
            return Outcome(kind, label, False, 0, r.errors)

        return run

    def _hold(self, kind: str, sub: str, address: Address, alert: Alert) -> Job:
        async def run() -> Outcome:
            await self.digests.add(sub, alert)
            return Outcome(kind, address.label, False, 0, queued=True)

        return run

    async def flush_digests(
        self, subs: Sequence[Subscription], now: float | None = None
    ) -> list[Outcome]:
        """Sends the digest of every subscription whose oldest held alert is due (on the
        target's lane)."""
        out: list[asyncio.Future[Outcome]] = []
        for sub in subs:
            for target in sub.targets:
                try:
                    channel, spec = resolve(target)
                except ValueError:
                    continue
                period = channel.digest_s(spec)
                if period is None or not await self.digests.due(sub.name, period, now):
                    continue
                alerts = await self.digests.take(sub.name)
                if alerts:
                    address = channel.address(spec, sub.name, self.ctx)
                    run = self._send(channel, spec, address, sub.name, alerts, digest=True)
                    out.append(self._queue(planned(channel.kind, address, alerts, run)))
        return list(await asyncio.gather(*out))


def story_updates(alerts: Sequence[Alert]) -> list[tuple[Alert, list[Alert]]]:
    """The alerts of one read grouped by story update (story, article, severity), in order:
    one article that raises five rules is one update, so a person gets one message."""
    return [(g[0], g[1:]) for _, g in _updates([("", a) for a in alerts])]


def _updates(entries: Sequence[tuple[str, Alert]]) -> list[tuple[list[str], list[Alert]]]:
    """`story_updates` keeping the stream ids of each update's entries (to acknowledge them)."""
    groups: dict[tuple[str, str, str], tuple[list[str], list[Alert]]] = {}
    for eid, a in entries:
        ids, group = groups.setdefault((a.story_id, a.article_id, a.severity), ([], []))
        ids.append(eid)
        group.append(a)
    return list(groups.values())


def decode(fields: Mapping[bytes, bytes] | None) -> Alert | str | None:
    """A stream entry's alert, or why it has none (deterministic: the same entry always fails
    the same way, so it is dead-lettered, never retried); None: a trimmed entry (nothing)."""
    if not fields:
        return None
    raw = fields.get(b"alert")
    if raw is None:
        return f"no alert field (fields: {', '.join(sorted(k.decode(errors='replace') for k in fields))})"
    try:
        return Alert.model_validate_json(raw)
    except ValidationError as exc:
        e = exc.errors()[0]  # no input: the entry is kept whole in the dead letter
        where = ".".join(str(x) for x in e["loc"])
        return f"invalid alert ({exc.error_count()} error(s)): {where}: {e['msg']}"


def stream_dead_record(
    stream: str, eid: str, reason: str, fields: Mapping[bytes, bytes]
) -> dict[str, object]:
    raw = {
        k.decode(errors="replace"): v[:10_000].decode(errors="replace") for k, v in fields.items()
    }
    return {
        "alert_id": None,
        "kind": "stream",
        "target": stream,
        "entry_id": eid,
        "attempts": 0,
        "status": None,
        "errors": [reason],
        "failed_at": time.time(),
        "alert": raw,
    }


async def dispatch(
    client: aioredis.Redis,
    keys: RedisKeys,
    config: Config,
    *,
    group: str = "webhooks",
    consumer: str = "dispatcher-1",
    block_ms: int = 2000,
    mail_every_s: float = 10.0,
    env: Mapping[str, str] | None = None,
    attempts: int | None = None,
    backoff: Backoff = DELIVERY,
    lane_depth: int = 1000,
) -> None:
    """Reads the alert stream in a consumer group and queues each story update on the lanes of
    the targets of every named subscription it matches; an entry is acknowledged once every lane
    has delivered, dead-lettered or held it, so a crash re-delivers it (at-least-once; receivers
    dedupe on the alert id). Every `mail_every_s` the due digests go out. Until cancelled."""
    with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists
        await client.xgroup_create(keys.stream, group, id="$", mkstream=True)
    cursor = "0"  # first our own pending entries (after the last one read), then new ones
    flushed = time.monotonic()
    acks: set[asyncio.Task[None]] = set()
    flushing: asyncio.Task[Any] | None = None

    async def redis(op: Callable[..., Awaitable[Any]], *args: Any, **kw: Any) -> Any:
        """A Redis call, retried on connection errors and timeouts only (the one policy)."""
        async for attempt in RECONNECT.async_retrying(TRANSIENT, what="alert stream"):
            with attempt:
                return await op(*args, **kw)
        return None  # not reached: the loop retries until the call returns

    async def ack_when_done(ids: list[str], outcomes: list[asyncio.Future[Outcome]]) -> None:
        done = await asyncio.gather(*outcomes, return_exceptions=True)
        bugs = [d for d in done if isinstance(d, BaseException)]
        if bugs:  # not acknowledged: re-read after a restart, once the bug is fixed
            log.error("delivery of entries %s raised: %r", ids, bugs[0])
            return
        await redis(client.xack, keys.stream, group, *ids)

    async with outbound_client(config) as http:  # the guarded one, without a shared pool cap
        deliverer = Deliverer(
            client,
            keys,
            http,
            config,
            env=env,
            attempts=attempts,
            backoff=backoff,
            lane_depth=lane_depth,
        )
        try:
            while True:
                got: Any = await redis(
                    client.xreadgroup,
                    group,
                    consumer,
                    {keys.stream: cursor},
                    count=100,
                    block=block_ms,
                )
                entries = [e for _, batch in got or [] for e in batch]
                subs = [s for s in await redis(deliverer.store.list) if s.targets]
                alerts: list[tuple[str, Alert]] = []
                skipped: list[str] = []
                for raw_id, fields in entries:
                    eid = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
                    got_alert = decode(fields)
                    if isinstance(got_alert, Alert):
                        alerts.append((eid, got_alert))
                        continue
                    if got_alert is not None:
                        log.warning("alert stream entry %s dead-lettered: %s", eid, got_alert)
                        await deliverer.dead(
                            stream_dead_record(keys.stream, eid, got_alert, fields)
                        )
                    skipped.append(eid)
                if skipped:
                    await redis(client.xack, keys.stream, group, *skipped)
                for ids, update in _updates(alerts):
                    task = asyncio.create_task(
                        ack_when_done(ids, deliverer.submit(subs, update[0], update[1:]))
                    )
                    acks.add(task)
                    task.add_done_callback(acks.discard)
                if cursor != ">":
                    cursor = entries[-1][0] if entries else ">"
                if time.monotonic() - flushed >= mail_every_s and (
                    flushing is None or flushing.done()
                ):
                    flushed = time.monotonic()
                    flushing = asyncio.create_task(deliverer.flush_digests(subs))
        finally:
            await deliverer.lanes.close()
            pending = [*acks, *([flushing] if flushing else [])]
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
