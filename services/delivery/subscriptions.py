"""Named server-side subscriptions: filters stored in Redis, matches published on their own channel.

Each subscription may carry a rate limit; alerts over the limit are folded into a digest that a periodic
flush publishes as one message, so a burst never floods a subscriber.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import ValidationError

from schemas import SEVERITY_RANK, Alert, Digest, Subscription, Target
from services.common.topics import RedisKeys

log = logging.getLogger(__name__)


def alert_countries(alert: Alert) -> list[str]:
    """Where the alert's event happened: its event location's country when it has one (a strike
    on Belgorod is about RU, whoever the article also mentions), else its countries."""
    loc = alert.event_location
    if loc is not None and loc.country:
        return [loc.country]
    return alert.countries


def matches(sub: Subscription, alert: Alert) -> bool:
    if SEVERITY_RANK[alert.severity] < SEVERITY_RANK[sub.min_severity]:
        return False
    if sub.rules and alert.rule_id not in sub.rules:
        return False
    return not (sub.countries and not set(sub.countries) & set(alert_countries(alert)))


def summary(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "rule_id": alert.rule_id,
        "severity": alert.severity,
        "title": alert.title,
    }


# KEYS: rate counter, digest list. ARGV: limit (0 = none), channel, payload, summary, window seconds.
FANOUT_LUA = """
local limit = tonumber(ARGV[1])
if limit > 0 then
  local n = redis.call('INCR', KEYS[1])
  if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
  if n > limit then
    redis.call('RPUSH', KEYS[2], ARGV[4])
    return 0
  end
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
"""

# KEYS: digest list. Returns and clears its items atomically.
DRAIN_LUA = """
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return items
"""


class Sealer:
    """Target fields encrypted at rest with Fernet (AES-CBC + HMAC): a chat webhook URL is a
    credential, and a Redis dump or `HGETALL` must not hand it out. Each key (any long random
    string, `NEWSWIRE_SUBSCRIPTION_KEY`; several comma-separated: the first seals, any opens, for
    rotation) is stretched with HKDF. A target another key sealed stays sealed: its channel cannot
    use it, and that target alone is dead-lettered."""

    def __init__(self, keys: str) -> None:
        secrets = [k.strip() for k in keys.split(",") if k.strip()]
        if not secrets:
            raise ValueError("an empty subscription key")
        self.fernet = MultiFernet([Fernet(self._derive(k)) for k in secrets])

    @staticmethod
    def _derive(secret: str) -> bytes:
        info = b"newswire subscription targets v1"
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info)
        return base64.urlsafe_b64encode(key.derive(secret.encode()))

    @classmethod
    def of(cls, key: str | None) -> Sealer | None:
        return cls(key) if key else None

    def seal(self, sub: Subscription) -> Subscription:
        targets = [
            t
            if t.sealed
            else Target(
                kind=t.kind, sealed=self.fernet.encrypt(json.dumps(t.fields).encode()).decode()
            )
            for t in sub.targets
        ]
        return sub.model_copy(update={"targets": targets})

    def open(self, sub: Subscription) -> Subscription:
        """Sealed targets opened; plain ones (written before the key was set) as they are."""
        return sub.model_copy(update={"targets": [self._open(t) for t in sub.targets]})

    def _open(self, t: Target) -> Target:
        if not t.sealed:
            return t
        try:
            fields = json.loads(self.fernet.decrypt(t.sealed.encode()))
        except (InvalidToken, ValueError):
            return t
        return Target(kind=t.kind, fields=fields)


class SubscriptionStore:
    """Subscriptions in one Redis hash; with a `sealer`, their targets encrypted at rest (and a
    store without one, like the dashboard's, reads the filters and leaves the targets sealed)."""

    def __init__(
        self, client: aioredis.Redis, keys: RedisKeys, sealer: Sealer | None = None
    ) -> None:
        self.client = client
        self.keys = keys
        self.sealer = sealer

    async def add(self, sub: Subscription) -> None:
        stored = self.sealer.seal(sub) if self.sealer else sub
        await self.client.hset(self.keys.subscriptions, sub.name, stored.model_dump_json())

    def _load(self, raw: str | bytes) -> Subscription:
        sub = Subscription.model_validate_json(raw)
        return self.sealer.open(sub) if self.sealer else sub

    async def get(self, name: str) -> Subscription | None:
        raw = await self.client.hget(self.keys.subscriptions, name)
        return None if raw is None else self._load(raw)

    async def remove(self, name: str) -> bool:
        return bool(await self.client.hdel(self.keys.subscriptions, name))

    async def list(self) -> list[Subscription]:
        """Every subscription this version can read: a record it cannot (written by another
        version, or damaged) is logged and skipped, so it never stops the others' alerts."""
        raw = await self.client.hgetall(self.keys.subscriptions)
        out = []
        for name, value in raw.items():
            try:
                out.append(self._load(value))
            except ValidationError as exc:
                why = [
                    (e["loc"], e["msg"]) for e in exc.errors()[:2]
                ]  # no input: it may be a secret
                log.warning("subscription %r unreadable, skipped: %s", name, why)
        return sorted(out, key=lambda s: s.name)


class FanOut:
    """Publishes an alert on the channel of every subscription it matches, within each rate limit."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: RedisKeys,
        *,
        refresh_s: float = 5.0,
        window_s: int = 60,
    ) -> None:
        self.client = client
        self.keys = keys
        self.store = SubscriptionStore(client, keys)
        self.refresh_s = refresh_s
        self.window_s = window_s
        self._subs: Sequence[Subscription] = ()
        self._loaded_at = float("-inf")
        self._fanout: Any = client.register_script(FANOUT_LUA)
        self._drain: Any = client.register_script(DRAIN_LUA)

    async def subscriptions(self) -> Sequence[Subscription]:
        if time.monotonic() - self._loaded_at > self.refresh_s:
            self._subs = await self.store.list()
            self._loaded_at = time.monotonic()
        return self._subs

    async def publish(self, alert: Alert) -> list[str]:
        """Returns the names of the subscriptions that got the alert live (not digested)."""
        payload: str | None = None  # serialised only for a matching subscription
        live = []
        window = int(time.time()) // self.window_s
        for sub in await self.subscriptions():
            if not matches(sub, alert):
                continue
            payload = payload or alert.model_dump_json()
            sent = await self._fanout(
                keys=[self.keys.rate(sub.name, window), self.keys.digest(sub.name)],
                args=[
                    sub.rate_limit_per_min or 0,
                    self.keys.subscription(sub.name),
                    payload,
                    json.dumps(summary(alert)),
                    self.window_s * 2,
                ],
            )
            if sent:
                live.append(sub.name)
        return live

    async def flush_digests(self) -> list[Digest]:
        """Publishes one digest message per subscription with folded alerts; call once a window."""
        out = []
        for sub in await self.subscriptions():
            items = await self._drain(keys=[self.keys.digest(sub.name)])
            if not items:
                continue
            digest = Digest(
                subscription=sub.name,
                count=len(items),
                alerts=[json.loads(i) for i in items[:100]],
            )
            await self.client.publish(self.keys.subscription(sub.name), digest.model_dump_json())
            out.append(digest)
        return out
