"""Story state shared in Redis: restarts, replicas and rebalances raise no second alert for the
same (story, rule, severity); memory per open story measured. On the real stack."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter

import pytest
import redis.asyncio as aioredis

from schemas import TaggedArticle
from services.alerts.core import Proposal, Settled, StoryEngine, propose
from services.alerts.rules import load_rules
from services.alerts.store import RedisStories, bytes_per_story
from services.common.settings import Settings
from services.common.topics import RedisKeys
from services.offline.analyze import tagged_from
from tests.unit.alerts.test_evaluate import ROOT
from tests.unit.alerts.test_stories import CITIES, OUTLETS, UPDATE, template

pytestmark = pytest.mark.integration
RULES = load_rules(ROOT / "services" / "alerts" / "data" / "rules.yaml")


def copies() -> list[TaggedArticle]:
    arts = [
        tagged_from(t, b, url=f"https://o{n}.example/x", published=f"2026-11-23T07:{n:02d}:00Z")
        for n, (t, b) in enumerate(OUTLETS)
    ]
    arts.append(tagged_from(*UPDATE, url="https://o9.example/y", published="2026-11-23T09:00:00Z"))
    return arts


def replica(client: aioredis.Redis, keys: RedisKeys) -> StoryEngine:
    return StoryEngine(RedisStories(client, keys, dedupe_ttl_s=600, maxlen=10_000))


async def stream(client: aioredis.Redis, keys: RedisKeys) -> list[dict[str, object]]:
    return [json.loads(f[b"alert"]) for _, f in await client.xrange(keys.stream)]


def once_each(alerts: list[dict[str, object]]) -> Counter[tuple[object, object, object]]:
    return Counter((a["story_id"], a["rule_id"], a["severity"]) for a in alerts)


async def test_a_restart_mid_story_raises_no_second_alert(stack: Settings) -> None:
    keys = RedisKeys(f"{stack.redis_prefix}-r{uuid.uuid4().hex[:6]}")
    props = [propose(t, RULES) for t in copies()]
    first = aioredis.Redis.from_url(stack.redis)
    await replica(first, keys).settle_all(props[:3])
    await first.aclose()  # the worker dies; its uncommitted records come again
    second = aioredis.Redis.from_url(stack.redis)
    again = await replica(second, keys).settle_all(props[1:])
    assert [s.redelivered for s in again] == [True, True, False, False, False, False]
    alerts = await stream(second, keys)
    count = once_each(alerts)
    assert set(count.values()) == {1}, count
    assert len({a["story_id"] for a in alerts}) == 1
    rises = [(a["rule_id"], a["previous_severity"], a["severity"]) for a in alerts]
    assert ("missile-strike", "high", "critical") in rises
    await second.aclose()


async def test_two_replicas_interleaved_raise_each_alert_once(stack: Settings) -> None:
    keys = RedisKeys(f"{stack.redis_prefix}-2r{uuid.uuid4().hex[:6]}")
    arts = copies()[:-1]
    # the template's distinct strikes too, each its own story, shuffled between the replicas
    others = [c for c in CITIES if c != "Dnipro"][:8]  # (a missile on Dnipro is the same story)
    arts += [template(c, "missile", 5, i) for i, c in enumerate(others)]
    props = [propose(t, RULES) for t in arts]
    clients = [aioredis.Redis.from_url(stack.redis) for _ in range(2)]
    reps = [replica(c, keys) for c in clients]

    async def run(r: StoryEngine, mine: list[Proposal]) -> None:
        for p in mine:
            await r.settle(p)
            await asyncio.sleep(0)

    # both replicas see every article (a rebalance hands a partition over mid-batch)
    await asyncio.gather(run(reps[0], props), run(reps[1], props[::-1]))
    alerts = await stream(clients[0], keys)
    count = once_each(alerts)
    assert set(count.values()) == {1}, count
    stories = {a["story_id"] for a in alerts}
    assert len(stories) == 1 + 8
    n, per_story = await bytes_per_story(clients[0], keys)
    assert n == 9 and per_story < 4096
    print(
        f"open stories {n}, {per_story:.0f} bytes each; conflicts {sum(r.conflicts for r in reps)}"
    )
    for c in clients:
        await c.aclose()


def mixed() -> list[TaggedArticle]:
    """One story's copies (one bucket) interleaved with distinct strikes (their own buckets)."""
    others = [c for c in CITIES if c != "Dnipro"][:6]
    strikes = [template(c, "missile", 5, i) for i, c in enumerate(others)]
    out: list[TaggedArticle] = []
    for n, art in enumerate(copies()):
        out += [art, *strikes[n : n + 1]]
    return out + strikes[len(copies()) :]


def outcome(settled: list[Settled]) -> list[tuple[str, list[str], bool]]:
    return [(s.story.id, [a.id for a in s.alerts], s.redelivered) for s in settled]


async def test_a_batch_settles_as_its_articles_would_one_by_one(stack: Settings) -> None:
    """settle_all reads and commits a round of buckets at a time: the stories, alerts and alert
    ids must be those of settling each article in turn, redeliveries in the batch included."""
    props = [propose(t, RULES) for t in mixed()]
    props += props[:2]  # a batch that repeats articles: redelivered, no new alerts
    client = aioredis.Redis.from_url(stack.redis)
    one_by_one = replica(client, RedisKeys(f"{stack.redis_prefix}-s{uuid.uuid4().hex[:6]}"))
    keys = RedisKeys(f"{stack.redis_prefix}-b{uuid.uuid4().hex[:6]}")
    expected = [await one_by_one.settle(p) for p in props]
    got = await replica(client, keys).settle_all(props)
    assert outcome(got) == outcome(expected)
    assert [s.redelivered for s in got][-2:] == [True, True]
    assert len({s.story.id for s in got}) == 1 + 6
    assert sorted(a["id"] for a in await stream(client, keys)) == sorted(
        a.id for s in expected if not s.redelivered for a in s.alerts
    )
    await client.aclose()


async def test_two_replicas_settling_batches_raise_each_alert_once(stack: Settings) -> None:
    """Batches of two replicas over the same articles race on the same buckets: the commits that
    lose go again, and every (story, rule, severity) is alerted once."""
    keys = RedisKeys(f"{stack.redis_prefix}-2b{uuid.uuid4().hex[:6]}")
    props = [propose(t, RULES) for t in mixed()]
    clients = [aioredis.Redis.from_url(stack.redis) for _ in range(2)]
    reps = [replica(c, keys) for c in clients]

    async def run(r: StoryEngine, mine: list[Proposal]) -> None:
        for at in range(0, len(mine), 3):
            await r.settle_all(mine[at : at + 3])
            await asyncio.sleep(0)

    await asyncio.gather(run(reps[0], props), run(reps[1], props[::-1]))
    count = once_each(await stream(clients[0], keys))
    assert set(count.values()) == {1}, count
    assert len({story for story, _, _ in count}) == 1 + 6
    for c in clients:
        await c.aclose()


async def _alerts_when_quiet(
    client: aioredis.Redis, keys: RedisKeys, at_least: int, timeout: float = 120.0
) -> list[dict[str, object]]:
    """The stream once it holds `at_least` alerts and nothing came for 4 seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last, since = -1, loop.time()
    while loop.time() < deadline:
        n = await client.xlen(keys.stream)
        if n != last:
            last, since = n, loop.time()
        elif n >= at_least and loop.time() - since > 4:
            break
        await asyncio.sleep(0.5)
    return await stream(client, keys)


async def test_alerts_worker_processes_killed_restarted_and_two_replicas(stack: Settings) -> None:
    """The real worker: killed (SIGKILL) mid-story, restarted as two replicas, one of them stopped
    (a rebalance); every copy of the story and its update is read at least once."""
    import os
    import signal
    import subprocess

    from aiokafka import AIOKafkaProducer

    from services.common.kafka import ensure_topics
    from services.common.topics import Topics
    from services.devstack.supervise import service_command, settings_env

    tag = uuid.uuid4().hex[:6]
    s = stack.model_copy(update={"topic_prefix": f"story{tag}", "redis_prefix": f"story{tag}"})
    await ensure_topics(s)
    env = {**os.environ, **settings_env(s), "NEWSWIRE_LOG_LEVEL": "WARNING"}
    log = open(f"/tmp/story-alerts-{tag}.log", "ab")  # noqa: SIM115
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        p = subprocess.Popen(service_command("alerts"), env=env, stdout=log, stderr=log)
        procs.append(p)
        return p

    keys = RedisKeys(s.redis_prefix)
    client = aioredis.Redis.from_url(s.redis)
    producer = AIOKafkaProducer(bootstrap_servers=s.bootstrap)
    await producer.start()
    topic = Topics.from_settings(s).tagged
    arts = copies()

    async def send(items: list[TaggedArticle]) -> None:
        for t in items:
            await producer.send_and_wait(topic, t.model_dump_json().encode(), key=t.id.encode())

    try:
        first = start()
        await send(arts[:3])
        before = await _alerts_when_quiet(client, keys, 1)
        first.send_signal(signal.SIGKILL)  # mid-story, maybe before its offsets were committed
        first.wait()
        start(), start()
        await send(arts[2:6])  # one copy again, as a producer retry would
        await _alerts_when_quiet(client, keys, len(before))
        procs[1].send_signal(signal.SIGTERM)  # a rebalance: the other replica takes over
        procs[1].wait(timeout=60)
        await send(arts[6:])  # the update: the toll rises a band
        alerts = await _alerts_when_quiet(client, keys, len(before) + 1, timeout=240)
    finally:
        await producer.stop()
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()
    count = once_each(alerts)
    assert set(count.values()) == {1}, count
    assert len({a["story_id"] for a in alerts}) == 1
    assert ("missile-strike", "high", "critical") in [
        (a["rule_id"], a["previous_severity"], a["severity"]) for a in alerts
    ]
    n, per_story = await bytes_per_story(client, keys)
    print(f"worker test: {len(alerts)} alerts, {n} open stories, {per_story:.0f} bytes each")
    await client.aclose()
