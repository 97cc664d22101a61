"""Test tiers: unit (no I/O), integration (real Kafka + Redis), e2e (the four services as processes).

The session fixture `stack` starts a private local stack on free ports (its own state folder and topic/Redis
prefixes) and stops it when the session ends, whatever happened. With KAFKA_BOOTSTRAP_SERVERS and REDIS_URL set,
the external services are used instead and nothing is started.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord

from services.common.settings import PROJECT_ROOT, Settings
from services.devstack.stack import free_port, private_stack
from services.devstack.supervise import settings_env

SEED_DIR = PROJECT_ROOT / "seeds"
SHARED = PROJECT_ROOT.parent / "shared"
__all__ = ["free_port", "settings_env"]


@pytest.fixture(scope="session")
def stack() -> Iterator[Settings]:
    run = uuid.uuid4().hex[:8]
    names = {
        "topic_prefix": f"nwtest{run}",
        "redis_prefix": f"nwtest{run}",
        "http_port": free_port(),
    }
    base = Settings(_env_file=None)  # type: ignore[call-arg]
    with private_stack(base, PROJECT_ROOT / ".newswire" / f"test-{run}", **names) as s:
        yield s


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
