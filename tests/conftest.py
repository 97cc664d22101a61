"""Test tiers: unit (no I/O), integration (real Kafka + Redis), e2e (the four services as processes).

The session fixture `stack` starts a private local stack on free ports (its own state folder and topic/Redis
prefixes) and stops it when the session ends, whatever happened. With KAFKA_BOOTSTRAP_SERVERS and REDIS_URL set,
the external services are used instead and nothing is started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord

from services.common.settings import PROJECT_ROOT, Settings
from services.common.stack import LocalStack

SEED_DIR = PROJECT_ROOT / "seeds"
SHARED = PROJECT_ROOT.parent / "shared"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_env(s: Settings) -> dict[str, str]:
    """The environment that makes a child process use the same stack and names as `s`."""
    env = {
        "NEWSWIRE_STATE_DIR": str(s.state_dir),
        "NEWSWIRE_KAFKA_PORT": str(s.kafka_port),
        "NEWSWIRE_KAFKA_CONTROLLER_PORT": str(s.kafka_controller_port),
        "NEWSWIRE_REDIS_PORT": str(s.redis_port),
        "NEWSWIRE_TOPIC_PREFIX": s.topic_prefix,
        "NEWSWIRE_REDIS_PREFIX": s.redis_prefix,
        "NEWSWIRE_HTTP_PORT": str(s.http_port),
        "NEWSWIRE_CONFIG": os.devnull,
        "NEWSWIRE_METRICS_PORT": "0",  # several workers, parallel sessions: any free port each
    }
    if s.kafka_bootstrap_servers:
        env["KAFKA_BOOTSTRAP_SERVERS"] = s.kafka_bootstrap_servers
    if s.redis_url:
        env["REDIS_URL"] = s.redis_url
    return env


@pytest.fixture(scope="session")
def stack() -> Iterator[Settings]:
    run = uuid.uuid4().hex[:8]
    names = {
        "topic_prefix": f"nwtest{run}",
        "redis_prefix": f"nwtest{run}",
        "http_port": free_port(),
    }
    base = Settings(_env_file=None)  # type: ignore[call-arg]
    if base.external:
        yield base.model_copy(update=names)
        return
    with private_stack(base.model_copy(update=names), f"test-{run}") as (s, _):
        yield s


@contextlib.contextmanager
def private_stack(base: Settings, name: str) -> Iterator[tuple[Settings, LocalStack]]:
    """A local Kafka + Redis on free ports with its own state folder, removed afterwards."""
    state = PROJECT_ROOT / ".newswire" / name
    s = base.model_copy(
        update={
            "state_dir": state,
            "kafka_port": free_port(),
            "kafka_controller_port": free_port(),
            "redis_port": free_port(),
        }
    )
    local = LocalStack(s)
    try:
        local.up()
        yield s, local
    finally:
        local.down()
        shutil.rmtree(state, ignore_errors=True)


async def read_topic(
    s: Settings, topic: str, idle_polls: int = 3
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of a topic from the beginning, until idle_polls half-second polls bring nothing."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=s.bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    out: list[ConsumerRecord[bytes, bytes]] = []
    try:
        idle = 0
        while idle < idle_polls:
            batch = await consumer.getmany(timeout_ms=500)
            idle = 0 if batch else idle + 1
            out += [r for rs in batch.values() for r in rs]
    finally:
        await consumer.stop()
    return out


@pytest.fixture(scope="session")
def seed_path() -> Path:
    paths = sorted(SEED_DIR.glob("*.txt"))
    assert paths, "seeds/ must hold the seed article"
    return paths[0]
