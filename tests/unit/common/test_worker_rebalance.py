"""The two rebalance guards of services/common/worker.py, on stand-ins for faust and aiokafka."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from services.common.faust_patches import stale_fetched
from services.common.worker import Stage


def _consumer(positions: dict[str, int | None] | None) -> Any:
    """A faust consumer whose aiokafka assignment holds these positions (None: awaiting reset)."""
    if positions is None:
        assignment = None
    else:
        states = {
            tp: SimpleNamespace(has_valid_position=pos is not None, position=pos)
            for tp, pos in positions.items()
        }
        assignment = SimpleNamespace(state_value=states.get)
    client = SimpleNamespace(
        _subscription=SimpleNamespace(subscription=SimpleNamespace(assignment=assignment))
    )
    return SimpleNamespace(_thread=SimpleNamespace(_consumer=client))


def _records(**offsets: range) -> dict[str, list[Any]]:
    return {tp: [SimpleNamespace(offset=o) for o in r] for tp, r in offsets.items()}


def test_records_ending_before_the_position_are_current() -> None:
    assert stale_fetched(_consumer({"a": 50, "b": 7}), _records(a=range(40, 50))) == set()


def test_records_at_or_past_the_position_are_stale() -> None:
    # a rebalance put the new assignment at the committed offset 20 after the fetch of 40..49
    consumer = _consumer({"a": 20, "b": 49})
    assert stale_fetched(consumer, _records(a=range(40, 50), b=range(40, 50))) == {"a", "b"}


def test_records_of_partitions_no_longer_assigned_or_unpositioned_are_stale() -> None:
    recs = _records(a=range(3), b=range(3))
    assert stale_fetched(_consumer({"b": None}), recs) == {"a", "b"}
    assert stale_fetched(_consumer(None), recs) == {"a", "b"}


class _Stream:
    def __init__(self) -> None:
        self.acked: list[int] = []

    async def ack(self, event: Any) -> bool:
        self.acked.append(event.message.offset)
        return True


def _stage(generation: int, flowing: bool) -> Any:
    stage = object.__new__(Stage)
    stage.app = SimpleNamespace(
        consumer_generation_id=generation,
        flow_control=SimpleNamespace(is_active=lambda: flowing),
    )
    return stage


def _events(*gen_offsets: tuple[int, int]) -> list[Any]:
    return [
        SimpleNamespace(message=SimpleNamespace(generation_id=g, offset=o)) for g, o in gen_offsets
    ]


def test_a_batch_acks_only_the_events_of_the_current_generation() -> None:
    stream = _Stream()
    asyncio.run(_stage(3, True)._ack(stream, _events((1, 10), (1, 11), (3, 0), (3, 1))))
    assert stream.acked == [0, 1]


def test_a_batch_finished_during_a_rebalance_acks_nothing() -> None:
    stream = _Stream()
    asyncio.run(_stage(3, False)._ack(stream, _events((3, 0), (3, 1))))
    assert stream.acked == []
