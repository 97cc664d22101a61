"""Redis delivery: one Lua script per alert, so a re-processed alert reaches subscribers once; its
Lua function (`DELIVER_FN`) is also the delivery inside the alerts stage's story commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from schemas import Alert
from services.common.redisconn import make_redis
from services.common.settings import Settings
from services.common.topics import RedisKeys
from services.delivery.subscriptions import FanOut, alert_countries

# The one delivery of one alert, written once: SET NX its dedupe key; only the first time, XADD it
# to the stream and PUBLISH it on its channels (ARGV[first..last] of the calling script). Returns
# the stream entry id, or false when the alert id was delivered before. A Lua function to paste in
# front of a script's body: the plain delivery below and the alerts stage's story commit
# (services/alerts/store.py) both call it, so the three steps exist once.
DELIVER_FN = """
local function deliver(dedupe, ttl, stream, maxlen, id, severity, rule, payload, first, last)
  if not redis.call('SET', dedupe, '1', 'NX', 'EX', ttl) then return false end
  local entry = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*',
                           'id', id, 'severity', severity, 'rule', rule, 'alert', payload)
  for c = first, last do redis.call('PUBLISH', ARGV[c], payload) end
  return entry
end
"""

# KEYS: dedupe key, stream. ARGV: ttl, maxlen, payload, id, severity, rule, channels...
DELIVER_LUA = (
    DELIVER_FN
    + "return deliver(KEYS[1], ARGV[1], KEYS[2], ARGV[2], ARGV[4], ARGV[5], ARGV[6], ARGV[3], "
    "7, #ARGV)\n"
)


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
        return entry_id(await self._script(**self._call(alert)))

    async def deliver_many(self, alerts: Sequence[Alert]) -> list[str | None]:
        """`deliver` for each alert in one round trip (a pipeline of script calls, in order)."""
        if len(alerts) <= 1:
            return [await self.deliver(a) for a in alerts]
        async with self.client.pipeline(transaction=False) as pipe:
            for alert in alerts:
                await self._script(**self._call(alert), client=pipe)
            return [entry_id(r) for r in await pipe.execute()]

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


def entry_id(result: Any) -> str | None:
    """A delivery script's reply: the stream entry id, or None for an alert delivered before."""
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
