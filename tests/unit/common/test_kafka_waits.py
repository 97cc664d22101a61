"""The start-up waits on the one retry policy: Kafka's and the network's errors are waited out
until the deadline, anything else is raised at once."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka.errors import GroupCoordinatorNotAvailableError, KafkaConnectionError

from services.common import kafka
from services.common.kafka_admin import KafkaAdmin
from services.common.retrying import Backoff
from services.common.settings import Settings

FAST = Backoff(base_s=0.0, cap_s=0.0)


def _failing(errors: list[BaseException]) -> Any:
    calls: list[int] = []

    async def op(*_: Any) -> dict[str, int]:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return {}

    return op, calls


async def test_wait_for_topics_waits_out_a_broker_away(monkeypatch: pytest.MonkeyPatch) -> None:
    op, calls = _failing([KafkaConnectionError("away"), OSError("refused")])
    monkeypatch.setattr(kafka, "ensure_topics", op)
    monkeypatch.setattr(kafka, "STARTUP", FAST)
    await kafka.wait_for_topics(Settings(), wait_s=10)
    assert len(calls) == 3


async def test_wait_for_topics_raises_other_errors_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    op, calls = _failing([ValueError("a bug, not an outage")])
    monkeypatch.setattr(kafka, "ensure_topics", op)
    monkeypatch.setattr(kafka, "STARTUP", FAST)
    with pytest.raises(ValueError):
        await kafka.wait_for_topics(Settings(), wait_s=10)
    assert len(calls) == 1


async def test_wait_for_topics_gives_up_at_its_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    op, calls = _failing([KafkaConnectionError("away")] * 1000)
    monkeypatch.setattr(kafka, "ensure_topics", op)
    monkeypatch.setattr(kafka, "STARTUP", Backoff(base_s=0.01, cap_s=0.01))
    with pytest.raises(KafkaConnectionError):
        await kafka.wait_for_topics(Settings(), wait_s=0.1)
    assert 1 < len(calls) < 1000


async def test_group_offsets_wait_for_the_coordinator(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.common import kafka_admin

    op, calls = _failing([GroupCoordinatorNotAvailableError()] * 2)
    monkeypatch.setattr(kafka_admin, "STARTUP", FAST)
    admin = KafkaAdmin(Settings())
    monkeypatch.setattr(admin.admin, "list_consumer_group_offsets", op)
    assert await admin._group_offsets("g") == {}
    assert len(calls) == 3
