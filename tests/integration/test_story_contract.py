"""One contract for both story stores (services/alerts/store.py): the memory store of the offline
chain and the Redis store of the workers, driven by the one engine over the same sequences:
redeliveries, two replicas racing, band rises, window expiry. The memory store runs here without
a stack; the Redis store on the real Redis of the `stack` fixture (marked integration)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from schemas import TaggedArticle
from services.alerts.core import Proposal, Settled, StoryEngine, StoryState, propose
from services.alerts.rules import Rule
from services.alerts.store import MemoryStories, RedisStories
from services.alerts.stories import Rules, Signature, StoryChange, StoryRead, StoryStore
from services.common.settings import Settings
from services.common.topics import RedisKeys
from services.offline.analyze import tagged_from
from tests.integration.test_story_state import RULES, copies, mixed
from tests.unit.alerts.test_evaluate import outlet

Replicas = Callable[[Rules], StoryStore]  # each call: one more replica on the same stories


class Yielding(MemoryStories):
    """The memory store, letting other tasks run between a read and its commit: two engines over
    one of it interleave as two workers over one Redis do."""

    async def read_many(self, sigs: Sequence[Signature]) -> list[StoryRead]:
        got = await super().read_many(sigs)
        await asyncio.sleep(0)
        return got


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def redis_stack(request: pytest.FixtureRequest) -> Settings | None:
    """The stack for the Redis store (started outside the event loop), None for memory."""
    return request.getfixturevalue("stack") if request.param == "redis" else None


@pytest.fixture
async def replicas(redis_stack: Settings | None) -> AsyncIterator[Replicas]:
    if redis_stack is None:
        shared: dict[Rules, MemoryStories] = {}
        yield lambda rules: shared.setdefault(rules, Yielding(rules))
        return
    stack = redis_stack
    keys = RedisKeys(f"{stack.redis_prefix}-c{uuid.uuid4().hex[:6]}")
    clients: list[aioredis.Redis] = []

    def replica(rules: Rules) -> StoryStore:
        clients.append(aioredis.Redis.from_url(stack.redis))
        return RedisStories(clients[-1], keys, dedupe_ttl_s=600, maxlen=10_000, rules=rules)

    yield replica
    for c in clients:
        await c.aclose()


def proposals(arts: Sequence[TaggedArticle]) -> list[Proposal]:
    return [propose(t, RULES) for t in arts]


def delivered(*runs: Sequence[Settled]) -> Counter[str]:
    """How often each alert id reached the stream (an entry id: a first delivery)."""
    return Counter(
        a.id for run in runs for s in run for a, e in zip(s.alerts, s.entries, strict=True) if e
    )


def outcome(settled: Sequence[Settled]) -> list[tuple[str, list[dict[str, object]], bool]]:
    """What an engine reports of each article, alerts whole but for the time they were raised."""
    return [
        (s.story.id, [a.model_dump(exclude={"times"}) for a in s.alerts], s.redelivered)
        for s in settled
    ]


async def test_the_store_settles_as_the_offline_chain_does(replicas: Replicas) -> None:
    """The same articles, redeliveries among them, give the same stories and alerts through the
    engine over this store as through `evaluate`'s memory store, one article at a time."""
    props = proposals(mixed())
    props += props[:2] + props[-3:-1]
    engine = StoryEngine(replicas(Rules()))
    got = [await engine.settle(p) for p in props]
    offline = StoryState()
    assert outcome(got) == outcome([offline.settle_now(p) for p in props])
    assert [s.redelivered for s in got][-4:] == [True] * 4
    assert sum(delivered(got).values()) == len(delivered(got))


async def test_a_batch_settles_as_one_by_one(replicas: Replicas) -> None:
    props = proposals(mixed())
    props += props[:2]
    got = await StoryEngine(replicas(Rules())).settle_all(props)
    offline = StoryState()
    assert outcome(got) == outcome([offline.settle_now(p) for p in props])


async def test_redeliveries_raise_the_same_alerts_and_deliver_none(replicas: Replicas) -> None:
    props = proposals(copies())
    store = replicas(Rules())
    first = await StoryEngine(store).settle_all(props[:3])
    again = await StoryEngine(store).settle_all(props[1:])  # a restart: records 1, 2 come again
    assert [s.redelivered for s in again] == [True, True, False, False, False, False]
    assert [[a.id for a in s.alerts] for s in again[:2]] == [
        [a.id for a in s.alerts] for s in first[1:]
    ]
    assert all(e is None for s in again[:2] for e in s.entries)
    count = delivered(first, again)
    assert set(count.values()) == {1}, count
    assert len({s.story.id for s in [*first, *again]}) == 1
    assert again[-1].story.articles == len(props)  # each article counted once


async def test_a_band_rise_alerts_once_more_and_its_redelivery_keeps_the_rise(
    replicas: Replicas,
) -> None:
    props = proposals(copies())
    engine = StoryEngine(replicas(Rules()))
    settled = await engine.settle_all(props)
    rises = [(a.rule_id, a.previous_severity, a.severity) for s in settled for a in s.alerts]
    assert ("missile-strike", "high", "critical") in rises
    assert [r for r in rises if r[0] == "missile-strike"] == [
        ("missile-strike", None, "high"),
        ("missile-strike", "high", "critical"),
    ]
    [update] = await engine.settle_all(props[-1:])
    assert update.redelivered
    assert [(a.id, a.previous_severity) for a in update.alerts] == [
        (a.id, a.previous_severity) for a in settled[-1].alerts
    ]


async def test_after_the_window_a_story_alerts_again_and_then_closes(replicas: Replicas) -> None:
    """A rule alerts again in its story after a window without an alert; a story idle for a
    window takes no more articles (the next copy opens another)."""
    engine = StoryEngine(replicas(Rules(window=timedelta(hours=1))))
    times = [(8, 0), (8, 40), (9, 10), (10, 30)]
    arts = [outlet(n, hour=h, minute=m) for n, (h, m) in enumerate(times, 1)]
    settled = await engine.settle_all(proposals(arts))
    first, inside, again, closed = [s.alerts for s in settled]
    assert len(first) == 1 and inside == [] and len(again) == 1 and len(closed) == 1
    assert again[0].story_id == first[0].story_id and again[0].id != first[0].id
    assert closed[0].story_id == settled[3].article_id != first[0].story_id
    assert [s.opens_story for s in settled] == [True, False, False, True]


class Held:
    """A replica that reads, then waits for `go` before it commits: another one commits first."""

    def __init__(self, inner: StoryStore) -> None:
        self.inner = inner
        self.rules = inner.rules
        self.read = asyncio.Event()
        self.go = asyncio.Event()

    async def read_many(self, sigs: Sequence[Signature]) -> list[StoryRead]:
        got = await self.inner.read_many(sigs)
        self.read.set()
        await self.go.wait()
        return got

    async def commit_many(self, changes: Sequence[StoryChange]) -> list[list[str | None] | None]:
        return await self.inner.commit_many(changes)


async def test_a_replica_that_loses_the_race_decides_again(replicas: Replicas) -> None:
    """Both replicas read the bucket before either commits: the second commit is refused, its
    replica reads again, finds the article in the story and raises the same alerts, undelivered."""
    [p] = proposals(copies()[:1])
    slow = Held(replicas(Rules()))
    held, fast = StoryEngine(slow), StoryEngine(replicas(Rules()))
    late = asyncio.create_task(held.settle(p))
    await slow.read.wait()
    won = await fast.settle(p)
    slow.go.set()
    lost = await late
    assert (held.conflicts, fast.conflicts) == (1, 0)
    assert not won.redelivered and lost.redelivered
    assert [a.id for a in lost.alerts] == [a.id for a in won.alerts] and won.alerts
    assert set(delivered([won], [lost]).values()) == {1}


async def test_two_replicas_interleaved_raise_each_alert_once(replicas: Replicas) -> None:
    props = proposals(mixed())
    engines = [StoryEngine(replicas(Rules())) for _ in range(2)]

    async def run(engine: StoryEngine, mine: list[Proposal]) -> list[Settled]:
        out: list[Settled] = []
        for at in range(0, len(mine), 3):
            out += await engine.settle_all(mine[at : at + 3])
            await asyncio.sleep(0)
        return out

    a, b = await asyncio.gather(run(engines[0], props), run(engines[1], props[::-1]))
    count = delivered(a, b)
    assert set(count.values()) == {1}, count
    assert len({s.story.id for s in [*a, *b]}) == 1 + 6
    assert {a.id for s in [*a, *b] for a in s.alerts} == set(count)


def wire_and_own() -> list[TaggedArticle]:
    """A Reuters wire story reprinted by three outlets, then one outlet's own report of it."""
    wire = (
        "KHARKIV, Ukraine (Reuters) - A Russian missile struck an office building in central "
        "Kharkiv on Tuesday, killing three people, the regional governor said."
    )
    own = (
        "Our correspondent in Kharkiv saw smoke over Sumska street after a Russian missile "
        "strike on Tuesday; three people were killed in an office building, the mayor said."
    )
    arts = [
        tagged_from(
            "Missile strike on Kharkiv kills three",
            wire,
            url=f"https://outlet{n}.example/kharkiv",
            published=f"2026-11-24T07:{n:02d}:00Z",
        )
        for n in range(3)
    ]
    return [
        *arts,
        tagged_from(
            "Kharkiv offices hit", own, url="https://kyivdesk.example/k", published=_AT + "10:00Z"
        ),
    ]


_AT = "2026-11-24T07:"


async def test_copies_are_one_origin_and_min_origins_waits_for_a_second(
    replicas: Replicas,
) -> None:
    """The reprints of one wire story count one origin; a rule with `min_origins: 2` alerts only
    with the outlet's own report, once, and its redelivery raises the same alert undelivered."""
    base = next(r for r in RULES if r.id == "missile-strike")
    two = Rule.compile(base.spec.model_copy(update={"id": "corroborated", "min_origins": 2}), {})
    props = [propose(t, [base, two]) for t in wire_and_own()]
    engine = StoryEngine(replicas(Rules()))
    settled = await engine.settle_all(props)
    assert [s.story.origins for s in settled] == [1, 1, 1, 2]
    assert [[a.rule_id for a in s.alerts] for s in settled] == [
        ["missile-strike"],
        [],
        [],
        ["corroborated"],
    ]
    assert [a.origins for s in settled for a in s.alerts] == [1, 2]
    [again] = await engine.settle_all(props[-1:])
    assert again.redelivered and again.story.origins == 2
    assert [a.id for a in again.alerts] == [a.id for a in settled[-1].alerts]
    assert set(delivered(settled, [again]).values()) == {1}
