"""A replay cancelled while aiokafka sends a batch to a frozen broker ends promptly (issue 15).

The hang: with Kafka frozen (SIGSTOP) a replay's batch is in flight; cancelling the replay runs
`Publisher.stop()`, whose `producer.stop()` waits for the accumulator to flush and then cancels
aiokafka's sender task, which on cancellation awaits every in-flight produce request (each bounded
only by the request timeout, and retried). The test freezes the session stack's broker mid-send,
cancels the replay and bounds the wait (`asyncio.wait` with a timeout); the broker is thawed whatever
happens.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
import uuid
from pathlib import Path

import pytest

from services.common.kafka import ensure_topics
from services.common.settings import Settings
from services.devstack.stack import LocalStack
from services.ingest.archive import ArchiveReport, ReplayOptions, replay_archive

pytestmark = pytest.mark.integration

CANCEL_WITHIN_S = 3.0  # the replay ends this soon after its cancellation


def _kafka_group(s: Settings) -> int | None:
    pidfile = LocalStack(s).kafka.pidfile
    if s.external or not pidfile.exists():
        return None
    return int(pidfile.read_text().strip())


async def test_a_replay_cancelled_mid_send_to_a_frozen_broker_ends(
    stack: Settings, tmp_path: Path
) -> None:
    pid = _kafka_group(stack)
    if pid is None:
        pytest.skip("needs the local stack's Kafka process to freeze")
    s = stack.model_copy(
        update={"topic_prefix": f"cancel{uuid.uuid4().hex[:6]}", "send_timeout_s": 10.0}
    )
    await ensure_topics(s)
    body = "Missiles hit the port. " * 200  # ~4.6 KB: a 500-article batch is ~2.3 MB in flight
    (tmp_path / "a.jsonl").write_text(
        "".join(json.dumps({"title": f"Article {i}", "body": body}) + "\n" for i in range(2000))
    )
    report = ArchiveReport()
    opts = ReplayOptions(loop=True, batch=500)
    task = asyncio.create_task(replay_archive(s, [tmp_path], opts, report))
    deadline = time.monotonic() + 30
    while report.published_count == 0 and time.monotonic() < deadline:  # the producer is up
        await asyncio.sleep(0.05)
    assert report.published_count > 0, "the replay published nothing"
    os.killpg(pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(1.0)  # the next batch is handed to aiokafka's sender and in flight
        assert not task.done()
        task.cancel()
        began = time.monotonic()
        await asyncio.wait({task}, timeout=CANCEL_WITHIN_S)  # bounded: the hang must not hang us
        took = time.monotonic() - began
        assert task.done(), f"the cancelled replay still runs after {took:.1f}s (the hang)"
        assert task.cancelled()
        print(f"cancelled replay ended in {took:.2f}s ({report.published_count} published)")
    finally:
        os.killpg(pid, signal.SIGCONT)
        if not task.done():  # let the hung replay finish now that the broker answers
            task.cancel()
            await asyncio.wait({task}, timeout=60)


async def test_a_replay_cancelled_at_any_point_of_a_live_send_ends(
    stack: Settings, tmp_path: Path
) -> None:
    """The hang as first seen (issue notes of #5): Ctrl-C on a looping replay while the broker
    answers. Cancelled at 20 seeded points around its sends, it ends each time within the bound."""
    s = stack.model_copy(update={"topic_prefix": f"cancel{uuid.uuid4().hex[:6]}"})
    await ensure_topics(s)
    body = "Missiles hit the port. " * 200
    (tmp_path / "a.jsonl").write_text(
        "".join(json.dumps({"title": f"Article {i}", "body": body}) + "\n" for i in range(300))
    )
    rng = random.Random(15)
    took: list[float] = []
    for _ in range(20):
        report = ArchiveReport()
        opts = ReplayOptions(loop=True, batch=rng.choice([1, 50, 300]))
        task = asyncio.create_task(replay_archive(s, [tmp_path], opts, report))
        deadline = time.monotonic() + 30
        while report.published_count == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        await asyncio.sleep(rng.uniform(0, 0.1))
        task.cancel()
        began, at_cancel = time.monotonic(), report.published_count
        await asyncio.wait({task}, timeout=CANCEL_WITHIN_S)
        took.append(time.monotonic() - began)
        assert task.done(), (
            f"the cancelled replay still runs after {took[-1]:.1f}s (the hang); published "
            f"{at_cancel} when cancelled, {report.published_count} now"
        )
    print(f"20 cancelled replays ended in at most {max(took):.2f}s")
