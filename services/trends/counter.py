"""Trend counts: one call per story-opening article counts the story in its window of event time,
counts its terms, and returns what a spike check needs.

Redis, not a faust table: the table wrote a changelog record per term (~50 per article), which was
most of Kafka's CPU, and a table is partitioned by term, so the alerts stage had to re-key every
term into its own record. Hashes and sets per window are shared by every trends replica, the
per-window set of counted articles makes a redelivered record count once, and everything expires
`window_s` x (`baseline_windows` + 2) after it was last written.

`MemoryCounter` does the same in a dict, for the offline simulation (services/offline/trends.py)
and unit tests; tests/integration/test_trend_counter.py holds the two to the same answers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis.asyncio as aioredis

from schemas import StoryTerms
from services.common.topics import RedisKeys
from services.trends.core import StoryRef, TrendConfig

TOTAL = "#"  # the field of a window's count of all stories (terms are `kind:name`)

# KEYS: seen, counts, stories, alerted, covered of the window; the watermark; the counts of the
# baseline windows (newest first); the member set of each term.
# ARGV: article id, ttl s, min count, event time, story info (JSON), number of baseline windows,
# factor, floor, warm-up windows, then the terms. Returns: the latest event time, the story totals
# of the baseline windows, and for each term that may be a spike (at or above min count and
# `factor` x its mean over the observed windows, after the warm-up, not alerted yet in the window):
# the term, its count, its baseline counts, its stories' ids, their info, and whether each is
# listed by an alert already. The test itself is core.spike's; this only keeps replies small.
COUNT_LUA = """
local id, ttl, min, at, nb = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[6])
local new = redis.call('SADD', KEYS[1], id) == 1
redis.call('EXPIRE', KEYS[1], ttl)
local wm = redis.call('GET', KEYS[6])
if not wm or at > tonumber(wm) then
  wm = ARGV[4]
  redis.call('SET', KEYS[6], wm)
end
redis.call('EXPIRE', KEYS[6], ttl)
if new then
  redis.call('HINCRBY', KEYS[2], '#', 1)
  redis.call('EXPIRE', KEYS[2], ttl)
  if #ARGV >= 10 then
    redis.call('HSET', KEYS[3], id, ARGV[5])
    redis.call('EXPIRE', KEYS[3], ttl)
  end
end
local totals, observed = {}, 0
for k = 1, nb do
  totals[k] = tonumber(redis.call('HGET', KEYS[6 + k], '#') or '0')
  if totals[k] > 0 then observed = observed + 1 end
end
local factor, floor, warm = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local out = {}
for i = 10, #ARGV do
  local term = ARGV[i]
  local members = KEYS[6 + nb + i - 9]
  local n
  if new then
    n = redis.call('HINCRBY', KEYS[2], term, 1)
    redis.call('SADD', members, id)
    redis.call('EXPIRE', members, ttl)
  else
    n = tonumber(redis.call('HGET', KEYS[2], term) or '0')
  end
  local base, sum = {}, 0
  if n >= min and observed >= warm then
    for k = 1, nb do
      base[k] = tonumber(redis.call('HGET', KEYS[6 + k], term) or '0')
      if totals[k] > 0 then sum = sum + base[k] end
    end
  end
  if n >= min and observed >= warm and n >= factor * math.max(floor, sum / math.max(observed, 1))
     and redis.call('SISMEMBER', KEYS[4], term) == 0 then
    local ids = redis.call('SMEMBERS', members)
    table.sort(ids)
    local info = redis.call('HMGET', KEYS[3], unpack(ids))
    local cov = {}
    for j = 1, #ids do cov[j] = redis.call('SISMEMBER', KEYS[5], ids[j]) end
    out[#out + 1] = {term, n, base, ids, info, cov}
  end
end
return {wm, totals, out}
"""

# KEYS: alerted, covered of the window. ARGV: ttl, term, then the ids of the stories listed.
MARK_LUA = """
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[1])
for i = 3, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
redis.call('EXPIRE', KEYS[2], ARGV[1])
"""


@dataclass(frozen=True)
class Candidate:
    """A term at or above `min_count` in its window that has not alerted there yet."""

    term: str
    current: int
    baseline: list[int]  # its counts in the baseline windows, newest first
    stories: list[StoryRef]  # oldest first
    covered: frozenset[str]  # ids of its stories an alert of the window lists already


@dataclass(frozen=True)
class Counted:
    latest: float  # the latest event time counted so far (the watermark trails it)
    totals: list[int]  # stories counted in each baseline window, newest first
    candidates: list[Candidate]


class Counter(Protocol):
    async def count(
        self, story: StoryTerms, at: float, window: int, terms: Sequence[str]
    ) -> Counted: ...

    async def mark(self, window: int, term: str, article_ids: Sequence[str]) -> None: ...


def story_info(story: StoryTerms, at: float) -> str:
    return json.dumps(
        {"t": story.title, "u": story.url, "s": story.severity, "x": story.score, "a": at},
        separators=(",", ":"),
    )


def story_ref(article_id: str, info: str | bytes | None) -> tuple[float, StoryRef]:
    d: dict[str, Any] = json.loads(info) if info else {}
    ref = StoryRef(
        article_id=article_id,
        title=d.get("t") or "",
        url=d.get("u"),
        severity=d.get("s") or "low",
        score=float(d.get("x") or 0.0),
    )
    return float(d.get("a") or 0.0), ref


def _candidate(
    term: str, n: int, base: Sequence[int], ids: Sequence[str], infos: Sequence[Any], cov: Any
) -> Candidate:
    refs = sorted((story_ref(i, info) for i, info in zip(ids, infos, strict=True)), key=_by_time)
    return Candidate(
        term=term,
        current=n,
        baseline=list(base),
        stories=[r for _, r in refs],
        covered=frozenset(i for i, c in zip(ids, cov, strict=True) if c),
    )


def _by_time(r: tuple[float, StoryRef]) -> tuple[float, str]:
    return r[0], r[1].article_id


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


class TrendCounter:
    """The counts in Redis, one script call per story."""

    def __init__(self, client: aioredis.Redis, keys: RedisKeys, cfg: TrendConfig) -> None:
        self.keys = keys
        self.cfg = cfg
        self.ttl = int(cfg.window_s * (cfg.baseline_windows + 2))
        self._count: Any = client.register_script(COUNT_LUA)
        self._mark: Any = client.register_script(MARK_LUA)

    async def count(
        self, story: StoryTerms, at: float, window: int, terms: Sequence[str]
    ) -> Counted:
        """Counts the story once in `window` and its `terms`; returns the candidates."""
        k, step, nb = self.keys, int(self.cfg.window_s), self.cfg.baseline_windows
        keys = [
            k.trend_seen(window),
            k.trend_counts(window),
            k.trend_stories(window),
            k.trend_alerted(window),
            k.trend_covered(window),
            k.trend_watermark,
        ]
        keys += [k.trend_counts(window - i * step) for i in range(1, nb + 1)]
        keys += [k.trend_members(window, t) for t in terms]
        args = [story.article_id, self.ttl, self.cfg.min_count, repr(at), story_info(story, at)]
        cfg = self.cfg
        args += [nb, repr(cfg.factor), repr(cfg.floor), cfg.warmup_windows, *terms]
        latest, totals, out = await self._count(keys=keys, args=args)
        return Counted(
            latest=float(_s(latest)),
            totals=[int(v) for v in totals],
            candidates=[
                _candidate(
                    _s(term),
                    int(n),
                    [int(v) for v in base],
                    [_s(i) for i in ids],
                    infos,
                    [int(c) for c in cov],
                )
                for term, n, base, ids, infos, cov in out
            ],
        )

    async def mark(self, window: int, term: str, article_ids: Sequence[str]) -> None:
        """After its alert is out: the term alerted in the window, and its stories are listed."""
        keys = [self.keys.trend_alerted(window), self.keys.trend_covered(window)]
        await self._mark(keys=keys, args=[self.ttl, term, *article_ids])


@dataclass
class _Window:
    seen: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    stories: dict[str, str] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    alerted: set[str] = field(default_factory=set)
    covered: set[str] = field(default_factory=set)


def may_spike(n: int, counts: Sequence[int], totals: Sequence[int], cfg: TrendConfig) -> bool:
    """The script's pre-check, which `core.spike` repeats in full."""
    observed = [c for c, t in zip(counts, totals, strict=True) if t > 0]
    if n < cfg.min_count or len(observed) < cfg.warmup_windows:
        return False
    return n >= cfg.factor * max(cfg.floor, sum(observed) / max(len(observed), 1))


class MemoryCounter:
    """`TrendCounter` in a dict of one process (nothing expires): the offline simulation."""

    def __init__(self, cfg: TrendConfig) -> None:
        self.cfg = cfg
        self.windows: dict[int, _Window] = defaultdict(_Window)
        self.latest: float | None = None

    async def count(
        self, story: StoryTerms, at: float, window: int, terms: Sequence[str]
    ) -> Counted:
        w = self.windows[window]
        new = story.article_id not in w.seen
        w.seen.add(story.article_id)
        self.latest = at if self.latest is None else max(self.latest, at)
        if new:
            w.counts[TOTAL] += 1
            if terms:
                w.stories[story.article_id] = story_info(story, at)
        step = int(self.cfg.window_s)
        base = [
            self.windows.get(window - i * step) for i in range(1, self.cfg.baseline_windows + 1)
        ]
        totals = [b.counts.get(TOTAL, 0) if b else 0 for b in base]
        out = []
        for term in terms:
            if new:
                w.counts[term] += 1
                w.members[term].add(story.article_id)
            n = w.counts.get(term, 0)
            counts = [b.counts.get(term, 0) if b else 0 for b in base]
            if may_spike(n, counts, totals, self.cfg) and term not in w.alerted:
                ids = sorted(w.members[term])
                out.append(
                    _candidate(
                        term,
                        n,
                        counts,
                        ids,
                        [w.stories.get(i) for i in ids],
                        [i in w.covered for i in ids],
                    )
                )
        return Counted(self.latest, totals, out)

    async def mark(self, window: int, term: str, article_ids: Sequence[str]) -> None:
        w = self.windows[window]
        w.alerted.add(term)
        w.covered.update(article_ids)
