"""Every target of the named subscriptions, fed from the alert stream (`newswire run webhooks`).

For each story update and each subscription it matches, each target gets it through its channel
(`channel.py`; the channels are listed in `registry.py`): paced per target, retried with the one
retry policy (a receiver's `retry_after` respected, permanent errors not retried), then
dead-lettered. A channel with a digest (e-mail) holds what is not urgent for the subscription's
period. The same target named by two subscriptions gets the update once. Dead letters go to
`RedisKeys.dead_deliveries` with `kind` and a `target` label that never contains a secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from schemas import Alert, Subscription, Target
from services.common.retrying import DELIVERY, Backoff
from services.common.topics import RedisKeys
from services.delivery.channel import Address, Channel, Context, dump
from services.delivery.config import Config
from services.delivery.registry import resolve
from services.delivery.retry import DeliveryResult, dead_record, deliver, redis_dead_letter
from services.delivery.subscriptions import SubscriptionStore, matches

__all__ = ["Config", "Deliverer", "Outcome", "Pacer", "dispatch", "story_updates"]

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


class Deliverer:
    def __init__(
        self,
        client: aioredis.Redis,
        keys: RedisKeys,
        http: aiohttp.ClientSession,
        config: Config,
        *,
        env: Mapping[str, str] | None = None,
        pacer: Pacer | None = None,
        attempts: int | None = None,
        backoff: Backoff = DELIVERY,
    ) -> None:
        self.keys = keys
        self.ctx = Context(config, http, os.environ if env is None else env)
        self.pacer = pacer or Pacer()
        self.attempts = attempts
        self.backoff = backoff
        self.dead = redis_dead_letter(client, keys.dead_deliveries)
        self.digests = Digests(client, keys)
        self.store = SubscriptionStore(client, keys)

    async def alert(
        self, subs: Sequence[Subscription], alert: Alert, also: Sequence[Alert] = ()
    ) -> list[Outcome]:
        """Every target of every subscription the alert matches (each target once).
        `also`: the other rules' alerts of the same story update: a person gets one message
        naming every rule; the signed webhook, for machines, still gets each alert."""
        jobs: dict[tuple[str, str], Job] = {}
        group = [alert, *also]
        for sub in subs:
            mine = [a for a in group if matches(sub, a)]
            if mine:
                for key, job in self._jobs(sub, mine, at_once=False):
                    jobs.setdefault(key, job)
        return list(await asyncio.gather(*(job() for job in jobs.values())))

    async def test(self, sub: Subscription, alert: Alert) -> list[Outcome]:
        """`subscriptions test`: one message to each target of `sub`, no digest."""
        return list(await asyncio.gather(*(j() for _, j in self._jobs(sub, [alert], at_once=True))))

    def _jobs(
        self, sub: Subscription, alerts: Sequence[Alert], *, at_once: bool
    ) -> list[tuple[tuple[str, str], Job]]:
        """(dedupe key, start) of each target: only the kept ones are started."""
        out: list[tuple[tuple[str, str], Job]] = []
        for i, target in enumerate(sub.targets):
            try:
                channel, spec = resolve(target)
            except ValueError as exc:
                out.append(
                    ((target.kind, f"{sub.name}#{i}"), self._invalid(sub, target, exc, alerts))
                )
                continue
            address = channel.address(spec, sub.name, self.ctx)
            key = (channel.kind, address.key)
            if (
                not at_once
                and channel.digest_s(spec) is not None
                and not channel.at_once(spec, alerts[0])
            ):
                out.append((key, self._hold(channel.kind, sub.name, address, alerts[0])))
            else:
                out.append((key, self._send(channel, spec, address, sub.name, alerts)))
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

    def _invalid(
        self, sub: Subscription, target: Target, exc: ValueError, alerts: Sequence[Alert]
    ) -> Job:
        """A stored target this version cannot use (another version's channel or fields): it is
        dead-lettered, never retried, and the subscription's other targets still get the alert."""

        async def run() -> Outcome:
            label = f"{target.kind}:{sub.name}"
            error = f"target not usable: {str(exc).splitlines()[0]}"
            r = DeliveryResult(False, 0, errors=[error])
            log.warning("%s: %s", label, error)
            await self.dead(
                dead_record(
                    alert_id=",".join(a.id for a in alerts),
                    target=label,
                    result=r,
                    alert=dump(alerts[0]),
                    kind=target.kind,
                )
            )
            return Outcome(target.kind, label, False, 0, r.errors)

        return run

    def _hold(self, kind: str, sub: str, address: Address, alert: Alert) -> Job:
        async def run() -> Outcome:
            await self.digests.add(sub, alert)
            return Outcome(kind, address.label, False, 0, queued=True)

        return run

    async def flush_digests(
        self, subs: Sequence[Subscription], now: float | None = None
    ) -> list[Outcome]:
        """Sends the digest of every subscription whose oldest held alert is due."""
        out = []
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
                    out.append(
                        await self._send(channel, spec, address, sub.name, alerts, digest=True)()
                    )
        return out


def story_updates(alerts: Sequence[Alert]) -> list[tuple[Alert, list[Alert]]]:
    """The alerts of one read grouped by story update (story, article, severity), in order:
    one article that raises five rules is one update, so a person gets one message."""
    groups: dict[tuple[str, str, str], list[Alert]] = {}
    for a in alerts:
        groups.setdefault((a.story_id, a.article_id, a.severity), []).append(a)
    return [(g[0], g[1:]) for g in groups.values()]


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
) -> None:
    """Reads the alert stream in a consumer group and delivers each alert to the targets of every
    named subscription it matches; an entry is acknowledged after delivery, dead-lettering or
    holding, so a crash re-delivers it (at-least-once; receivers dedupe on the alert id). Every
    `mail_every_s` the due digests go out. Until cancelled."""
    with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists
        await client.xgroup_create(keys.stream, group, id="$", mkstream=True)
    cursor = "0"  # first our own pending entries, then new ones
    flushed = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        deliverer = Deliverer(
            client, keys, http, config, env=env, attempts=attempts, backoff=backoff
        )
        while True:
            got: Any = await client.xreadgroup(
                group, consumer, {keys.stream: cursor}, count=100, block=block_ms
            )
            entries = [e for _, batch in got or [] for e in batch]
            subs = [s for s in await deliverer.store.list() if s.targets]
            if entries:
                for lead, others in story_updates(
                    [
                        Alert.model_validate_json(fields[b"alert"])
                        for _, fields in entries
                        if fields and b"alert" in fields
                    ]
                ):
                    await deliverer.alert(subs, lead, others)
                for eid, _ in entries:
                    await client.xack(keys.stream, group, eid)
            elif cursor == "0":
                cursor = ">"
            if time.monotonic() - flushed >= mail_every_s:
                flushed = time.monotonic()
                await deliverer.flush_digests(subs)
