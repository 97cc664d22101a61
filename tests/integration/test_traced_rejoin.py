"""Issue 15's traced path on a real broker: a fetch returned across a rejoin, on a partition with
no commit yet, is dropped by faust while its flow is stopped; nothing may be lost.

The worker (`tests/integration/traced_worker.py`, a `Stage` copying raw -> enriched on one
partition) runs with its first commit held back, a forced rejoin, and test-only delays in the
revoke handler and before the seek in `_resume_streams`. Records produced while the revoke
handler waits are fetched by the new assignment (from offset 0: nothing committed) while faust's
flow is stopped; faust drops them and `seek_to_committed` alone would leave aiokafka's position
past them (the loss traced in scenario 4). The test asserts the path was taken (the worker's
`fetched-while-stopped` trace names offsets the stage had not processed yet) and that every
record reaches the output and is committed.

On the code before the worker owned its offsets (82648c3) this test fails: the fetch of offsets
0-24 is dropped at position 25, both seeks leave it there, and r005-r024 are never processed.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from services.common.kafka import ensure_topics
from services.common.settings import PROJECT_ROOT, Settings
from services.common.topics import Topics
from tests.conftest import settings_env

pytestmark = pytest.mark.integration

WARM, DURING, AFTER = 5, 20, 5


def traces(control: Path) -> list[dict[str, Any]]:
    path = control / "trace.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


async def wait_trace(
    control: Path, log: Path, event: str, after: float = 0.0, timeout: float = 20.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for t in traces(control):
            if t["event"] == event and t["t"] >= after:
                return t
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {event!r} trace within {timeout}s:\n{log.read_text()[-4000:]}")


def start_worker(control: Path, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.integration.traced_worker", str(control)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


async def test_a_fetch_across_a_rejoin_with_no_commit_loses_nothing(
    stack: Settings, tmp_path: Path
) -> None:
    s = stack.model_copy(update={"topic_prefix": f"traced{uuid.uuid4().hex[:6]}", "partitions": 1})
    await ensure_topics(s)
    t = Topics.from_settings(s)
    control = tmp_path / "control"
    control.mkdir()
    (control / "hold").touch()  # the fresh group's first commit is held back
    log = tmp_path / "worker.log"
    env = {**os.environ, **settings_env(s), "NEWSWIRE_PARTITIONS": "1"}
    worker = start_worker(control, log, env)
    producer = AIOKafkaProducer(bootstrap_servers=s.bootstrap, acks="all")
    sink = AIOKafkaConsumer(t.enriched, bootstrap_servers=s.bootstrap, auto_offset_reset="earliest")
    await producer.start()
    await sink.start()
    seen: list[str] = []

    async def collect() -> None:
        while True:
            batch = await sink.getmany(timeout_ms=200)
            seen.extend(json.loads(r.value)["id"] for rs in batch.values() for r in rs)

    async def produce(first: int, n: int) -> None:
        for i in range(first, first + n):
            await producer.send_and_wait(t.raw, f"r{i:03d}".encode(), key=b"k")

    async def until_seen(ids: set[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ids <= set(seen) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)

    collector = asyncio.create_task(collect())
    try:
        await produce(0, WARM)
        await until_seen({f"r{i:03d}" for i in range(WARM)}, 30)
        assert len(set(seen)) == WARM, f"warm-up not processed: {seen}\n{log.read_text()[-3000:]}"

        began = time.time()
        (control / "rejoin").touch()
        await wait_trace(
            control, log, "revoke", after=began
        )  # aiokafka is rejoining; faust not yet told
        await produce(WARM, DURING)
        await wait_trace(control, log, "resumed", after=began, timeout=30)
        await produce(WARM + DURING, AFTER)
        (control / "hold").unlink()  # commits may go now

        total = WARM + DURING + AFTER
        wanted = {f"r{i:03d}" for i in range(total)}
        await until_seen(wanted, 30)
        assert wanted - set(seen) == set(), f"lost: {sorted(wanted - set(seen))}"

        # the path was taken: a fetch of the new assignment came while faust's flow was stopped,
        # holding records the stage had not processed before the rejoin
        stopped = [x for x in traces(control) if x["event"] == "fetched-while-stopped"]
        dropped = {o for x in stopped for offs in x["offsets"].values() for o in offs}
        assert dropped & set(range(WARM, WARM + DURING)), (
            f"the traced path was not taken: {stopped}\n{log.read_text()[-4000:]}"
        )

        admin = AIOKafkaAdminClient(bootstrap_servers=s.bootstrap)
        await admin.start()
        try:
            deadline = time.monotonic() + 15
            committed: Any = None
            while time.monotonic() < deadline:
                offsets = await admin.list_consumer_group_offsets(f"{s.topic_prefix}-enrichment")
                committed = offsets.get(TopicPartition(t.raw, 0))
                if committed is not None and committed.offset == total:
                    break
                await asyncio.sleep(0.5)
        finally:
            await admin.close()
        assert committed is not None and committed.offset == total, committed
        print(
            f"traced path: {len(stopped)} fetch(es) dropped while the flow was stopped "
            f"(offsets {sorted(dropped)}), {total}/{total} delivered, "
            f"{len(seen) - total} processed again, committed {committed.offset}"
        )
    finally:
        collector.cancel()
        await sink.stop()
        await producer.stop()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
