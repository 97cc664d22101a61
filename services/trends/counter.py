"""Trend counts in Redis: one script call per story-opening article counts its terms in the
current window and returns what a spike check needs.

Redis, not a faust table: the table wrote a changelog record per term (~50 per article), which was
most of Kafka's CPU, and a table is partitioned by term, so the alerts stage had to re-key every
term into its own record. A Redis hash per window is shared by every trends replica, and the
per-window set of counted articles makes a redelivered record count once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from services.common.topics import RedisKeys
from services.trends.core import TrendConfig

# KEYS: seen set of the window, counts of the window, counts of the baseline windows (newest first).
# ARGV: article id, ttl s, min count, then one entry per term: '1' or '0' (check it for a spike or
# only count it) and the term. Returns, flat, for every checked term at or above min count: the
# term, its count, then its count in each baseline window.
COUNT_LUA = """
local new = redis.call('SADD', KEYS[1], ARGV[1]) == 1
redis.call('EXPIRE', KEYS[1], ARGV[2])
local min = tonumber(ARGV[3])
local out = {}
for i = 4, #ARGV do
  local term = string.sub(ARGV[i], 2)
  local n
  if new then n = redis.call('HINCRBY', KEYS[2], term, 1)
  else n = tonumber(redis.call('HGET', KEYS[2], term) or '0') end
  if string.sub(ARGV[i], 1, 1) == '1' and n >= min then
    out[#out + 1] = term
    out[#out + 1] = n
    for k = 3, #KEYS do out[#out + 1] = tonumber(redis.call('HGET', KEYS[k], term) or '0') end
  end
end
if new then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
return out
"""


@dataclass(frozen=True)
class Count:
    term: str
    current: int
    baseline: list[int]


class TrendCounter:
    def __init__(self, client: aioredis.Redis, keys: RedisKeys, cfg: TrendConfig) -> None:
        self.keys = keys
        self.cfg = cfg
        self._script: Any = client.register_script(COUNT_LUA)

    async def count(
        self, article_id: str, window: int, terms: Sequence[str], skip: frozenset[str]
    ) -> list[Count]:
        """Counts `terms` once for `article_id` in `window`; returns the counts of the terms not in
        `skip` (already alerted in this window) that reached `min_count`."""
        step = int(self.cfg.window_s)
        keys = [self.keys.trend_seen(window), self.keys.trend_counts(window)]
        keys += [
            self.keys.trend_counts(window - k * step)
            for k in range(1, self.cfg.baseline_windows + 1)
        ]
        ttl = int(self.cfg.window_s * (self.cfg.baseline_windows + 2))
        args = [article_id, ttl, self.cfg.min_count]
        args += [("0" if t in skip else "1") + t for t in terms]
        flat = await self._script(keys=keys, args=args)
        width = 2 + self.cfg.baseline_windows
        return [
            Count(
                term=flat[i].decode() if isinstance(flat[i], bytes) else str(flat[i]),
                current=int(flat[i + 1]),
                baseline=[int(v) for v in flat[i + 2 : i + width]],
            )
            for i in range(0, len(flat), width)
        ]
