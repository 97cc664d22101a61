"""The stale-fetch guard (faust_patches) and the OffsetKeeper's generation and gap rules, on stand-ins."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from services.common.faust_patches import stale_fetched
from services.common.offsets import OffsetKeeper, Watermark


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


def _msg(gen: int, offset: int, tp: str = "a") -> Any:
    return SimpleNamespace(tp=tp, topic=tp, partition=0, offset=offset, generation_id=gen)


def _keeper(gen: int, start: int) -> OffsetKeeper:
    keeper = OffsetKeeper(["a"])
    keeper.parts["a"] = Watermark(gen, start, start, start)
    return keeper


def test_records_of_another_generation_are_not_taken() -> None:
    keeper = _keeper(3, 10)
    assert not keeper.accept(_msg(1, 10))
    assert keeper.accept(_msg(3, 10))
    keeper.handled([_msg(3, 10)])
    assert keeper.due() == (3, {"a": 11})


def test_a_missing_offset_stalls_the_partition_and_nothing_past_it_is_committed() -> None:
    keeper = _keeper(3, 10)
    assert not keeper.accept(_msg(3, 12))
    assert keeper.stalled()
    assert keeper.due() == (None, {})
    assert keeper.accept(_msg(3, 10)) and keeper.accept(_msg(3, 11))
    assert not keeper.stalled()
    keeper.handled([_msg(3, 10), _msg(3, 11)])
    assert keeper.due() == (3, {"a": 12})


def test_records_handed_out_advance_the_watermark_only_once_handled() -> None:
    keeper = _keeper(3, 0)
    assert all(keeper.accept(_msg(3, o)) for o in range(5))
    assert keeper.due() == (None, {})
    keeper.handled([_msg(3, o) for o in range(3)])
    assert keeper.due() == (3, {"a": 3})
    assert not keeper.accept(_msg(3, 2))  # a re-fetch of what is in hand
