"""Fault tests on the real stack: every run prints sent / delivered / lost / duplicated.

Default size 300 articles per run (CI); `make fault` runs 2,000 (the figures in docs/faults.md).
"""

from __future__ import annotations

import asyncio
import base64
import random
import signal

import pytest
from aiokafka import AIOKafkaProducer

from services.common.settings import Settings
from services.common.topics import Topics
from services.devstack.stack import LocalStack
from tests.fault.harness import WORKERS, Run

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.timeout(900)]
Stack = tuple[Settings, LocalStack]


def assert_nothing_lost_or_doubled(run: Run, dead_letters: int = 0) -> None:
    f = run.fig
    assert f.sent == len(run.articles)
    assert f.lost == 0, f.line()
    assert f.duplicated == 0, f.line()
    assert f.subscriber_missing == 0, f.line()  # live or backfilled from the stream
    assert f.dead_letters == dead_letters, f.line()
    # the commit invariant: no committed offset ever passed an offset not durably handled
    assert f.invariant_violations == 0, f.line()
    assert f.commits_checked > 0, f.line()


async def _restart_each(run: Run, sig: int) -> None:
    for i, w in enumerate(WORKERS):
        await run.until_published(0.2 + 0.25 * i)
        code = await run.workers.signal(w, sig)
        run.fig.notes[f"{w}_exit"] = code
        run.workers.start(w)


async def test_kill_9_each_worker_in_turn(fault_stack: Stack) -> None:
    run = Run(*fault_stack, "kill -9 each worker")
    await run.execute(lambda r: _restart_each(r, signal.SIGKILL))
    assert_nothing_lost_or_doubled(run)


async def test_sigterm_each_worker_shuts_down_cleanly(fault_stack: Stack) -> None:
    run = Run(*fault_stack, "SIGTERM each worker")
    await run.execute(lambda r: _restart_each(r, signal.SIGTERM))
    assert_nothing_lost_or_doubled(run)
    assert [run.fig.notes[f"{w}_exit"] for w in WORKERS] == [0, 0, 0], run.fig.notes


async def test_kafka_killed_for_10s(fault_stack: Stack) -> None:
    async def fault(r: Run) -> None:
        await r.until_published(0.4)
        r.signal_component(r.local.kafka.pidfile, signal.SIGKILL)
        await asyncio.sleep(10)
        r.local.start_kafka()
        await r.wait_stack()

    run = Run(*fault_stack, "Kafka kill -9 for 10 s")
    await run.execute(fault)
    assert_nothing_lost_or_doubled(run)
    assert not run.workers.dead(), run.workers.dead()


async def test_kafka_sigstop_longer_than_session_timeout(fault_stack: Stack) -> None:
    async def fault(r: Run) -> None:
        await r.until_published(0.4)
        pause = r.s.kafka_session_timeout_s + 5
        r.fig.notes["stopped_s"] = pause
        r.signal_component(r.local.kafka.pidfile, signal.SIGSTOP)
        try:
            await asyncio.sleep(pause)
        finally:
            r.signal_component(r.local.kafka.pidfile, signal.SIGCONT)

    run = Run(*fault_stack, "Kafka SIGSTOP > session timeout")
    await run.execute(fault)
    assert_nothing_lost_or_doubled(run)  # every partition made progress again


async def test_redis_down_for_20s(fault_stack: Stack) -> None:
    async def fault(r: Run) -> None:
        await r.until_published(0.4)
        r.local._stop(r.local.redis)
        await asyncio.sleep(20)
        r.local.start_redis()
        await r.wait_stack()

    run = Run(*fault_stack, "Redis down for 20 s")
    await run.execute(fault)
    assert_nothing_lost_or_doubled(run)  # gaps on pub/sub are reported, the stream is complete


def poison_records(seed: int, per_topic: int) -> list[bytes]:
    """Random bytes, broken JSON, and JSON that is no article: invalid for any schema version."""
    rnd = random.Random(seed)
    fixed = [
        b"",
        b"null",
        b"[]",
        b"42",
        b"{}",
        b'{"title": "no body"}',
        b"\xff\xfe\x00",
        b"{" * 5000,
    ]
    out = fixed[: min(len(fixed), per_topic)]
    valid = b'{"title": "Missile strike", "body": "A missile strike hit."}'
    while len(out) < per_topic:
        if rnd.random() < 0.5:
            out.append(rnd.randbytes(rnd.randint(1, 300)))
        else:  # a valid-looking payload cut short: never parseable
            out.append(valid[: rnd.randint(1, len(valid) - 1)] + rnd.randbytes(rnd.randint(0, 4)))
    return out


async def test_poison_record_in_each_topic(fault_stack: Stack) -> None:
    injected: dict[str, list[bytes]] = {}

    async def fault(r: Run) -> None:
        await r.until_published(0.3)
        t = Topics.from_settings(r.s)
        producer = AIOKafkaProducer(bootstrap_servers=r.s.bootstrap, acks="all")
        await producer.start()
        try:
            for i, topic in enumerate((t.raw, t.enriched, t.tagged)):
                injected[topic] = poison_records(i, 20)
                for j, value in enumerate(injected[topic]):
                    await producer.send_and_wait(topic, value, key=f"poison-{i}-{j}".encode())
        finally:
            await producer.stop()

    run = Run(*fault_stack, "poison records in each topic")
    await run.execute(fault)
    assert_nothing_lost_or_doubled(run, dead_letters=sum(len(v) for v in injected.values()))
    letters = [e.letter for e in await run.dead_letters()]
    got = sorted((d.topic, base64.b64decode(d.value)) for d in letters if d is not None)
    assert got == sorted((topic, v) for topic, vs in injected.items() for v in vs)
    assert not run.workers.dead()


async def test_rebalance_add_and_remove_a_replica(fault_stack: Stack) -> None:
    async def fault(r: Run) -> None:
        await r.until_published(0.25)
        for w in WORKERS:
            r.workers.start(w)  # a second replica joins each group
        await r.until_published(0.6)
        for w in WORKERS:
            r.fig.notes[f"{w}_first_replica_exit"] = await r.workers.signal(w, signal.SIGTERM)

    run = Run(*fault_stack, "add + remove a replica (rebalance)")
    await run.execute(fault)
    assert_nothing_lost_or_doubled(run)
