"""`newswire tail` as a user runs it: start positions, filters and --json on a real topic."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid

import pytest
from aiokafka import AIOKafkaProducer

from services.common.kafka import ensure_topics
from services.common.settings import Settings
from services.common.topics import Topics
from tests.conftest import settings_env

pytestmark = pytest.mark.integration


def _tail(stack: Settings, *args: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "services.cli", "tail", *args],
        env={**os.environ, **settings_env(stack)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return out.stdout.splitlines()


async def test_tail_positions_and_filters(stack: Settings) -> None:
    await ensure_topics(stack)
    topic = Topics.from_settings(stack).deadletter
    marker = uuid.uuid4().hex[:8]
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(4):
            doc = {"stage": "s", "n": i, "marker": marker, "tags": ["odd" if i % 2 else "even"]}
            await producer.send_and_wait(topic, json.dumps(doc).encode(), partition=0)
    finally:
        await producer.stop()

    everything = await asyncio.to_thread(_tail, stack, "deadletter", "--from-beginning", "--json")
    mine = [json.loads(line) for line in everything if marker in line]
    assert [d["n"] for d in mine] == [0, 1, 2, 3]
    odd = await asyncio.to_thread(
        _tail,
        stack,
        "deadletter",
        "--from-beginning",
        "--json",
        "--where",
        "tags=odd",
        "--grep",
        marker,
    )
    assert [json.loads(line)["n"] for line in odd] == [1, 3]
    last = await asyncio.to_thread(_tail, stack, "deadletter", "-n", "2", "--grep", marker)
    assert len(last) == 2 and '"n": 3' in last[-1] and "0@" in last[-1]
    since_future = await asyncio.to_thread(
        _tail, stack, "deadletter", "--since", "2999-01-01T00:00:00Z"
    )
    assert since_future == []
