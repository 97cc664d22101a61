"""Patches to faust-streaming 0.15.3 (with aiokafka 0.14.0), each with what it fixes and when it
can go. Kept here, apart from the worker shell, so that an upgrade finds them in one place.

`guard_stale_fetches`: records that aiokafka fetched before a rebalance reach faust's main loop
afterwards stamped with the new generation, and faust then commits past records never
processed (details in its docstring). It can go when faust checks a fetch against the
assignment it was made for (upstream: faust-streaming/faust `_getmany`, see also #707 on the
head-of-partition commit check), or when the worker commits its own offsets (issue 15).

`own_offsets`: for an app with an `OffsetKeeper` (services/common/offsets.py), faust's
`perform_seek` also seeks the pipeline partitions to the keeper's watermarks (a partition with no
commit to its beginning), faust's fetcher seeks a stalled partition back before it fetches, and
faust's commit (its timer, shutdown) also commits the watermarks.
It stays as long as the worker owns its offsets.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

log = logging.getLogger(__name__)


def stale_fetched(consumer: Any, records: Mapping[Any, Sequence[Any]]) -> set[Any]:
    """Partitions whose fetched records lie at or past aiokafka's current position for them.

    aiokafka fetches in the consumer thread and checks its records against the assignment there;
    faust's main loop gets them later. After a fetch the position is past the last record; if a
    rebalance replaced the assignment in between (a new `Assignment`, positioned at the committed
    offset) or faust's `perform_seek` moved it back, the records are from the old position.
    """
    client = getattr(getattr(consumer, "_thread", None), "_consumer", None)
    subscription = client._subscription.subscription if client is not None else None
    assignment = subscription.assignment if subscription is not None else None
    stale = set()
    for tp, recs in records.items():
        state: Any = assignment.state_value(tp) if assignment is not None else None
        if state is None or not state.has_valid_position:
            stale.add(tp)  # no longer assigned, or a new assignment still awaiting its offset
        elif recs and state.position <= recs[-1].offset:
            stale.add(tp)  # the position went back: fetched before a seek or a new assignment
    return stale


_guarded = False


def guard_stale_fetches() -> None:
    """Drop fetched records that a rebalance made stale before faust's fetcher sees them.

    aiokafka fetches in the consumer thread; faust's main loop receives the records later and
    stamps them with the generation current then (faust/transport/consumer.py:739-740 reads
    `consumer_generation_id` after `_wait_next_records`), so records fetched at the replaced
    assignment's positions pass as the new generation's. `_drain_messages` (:1208-1223) moves the
    read offset past them, the re-fetch from the committed offset is then dropped as already read,
    and `_new_offset` commits past the records never processed: through the gap `_add_gap` opened
    (:1113-1125), or because its head check (:1139) is skipped while nothing is committed yet.
    Dropping them is safe: aiokafka reads on from the new assignment's own position.
    """
    global _guarded
    if _guarded:
        return
    from faust.transport.consumer import ThreadDelegateConsumer

    original = ThreadDelegateConsumer._getmany

    async def _getmany(self: Any, active_partitions: Any, timeout: float) -> Any:
        records = await original(self, active_partitions, timeout)
        stale = stale_fetched(self, records) if records else set()
        if stale:
            log.info(
                "dropping records fetched before a rebalance: %s",
                {f"{tp.topic}[{tp.partition}]": len(records[tp]) for tp in stale},
            )
            records = {tp: recs for tp, recs in records.items() if tp not in stale}
        return records

    ThreadDelegateConsumer._getmany = _getmany  # type: ignore[method-assign]
    _guarded = True


_owned = False


def own_offsets() -> None:
    """Route faust's seek-to-committed and its commits through the app's `OffsetKeeper`."""
    global _owned
    if _owned:
        return
    from faust.transport.consumer import Consumer

    from services.common.offsets import keeper_of

    perform_seek = Consumer.perform_seek
    force_commit = Consumer.force_commit
    getmany = Consumer.getmany

    async def _getmany(self: Any, timeout: float) -> Any:
        keeper = keeper_of(self.app)
        if keeper is not None and keeper.stalled():  # the previous fetch is all handed over
            await keeper.reseek(self)
        async for item in getmany(self, timeout):
            yield item

    async def _perform_seek(self: Any) -> None:
        keeper = keeper_of(self.app)
        if keeper is None:
            return await perform_seek(self)
        committed = await self.seek_to_committed()  # as faust's, then ours on top
        self._read_offset.update(
            {tp: o if o is not None and o >= 0 else None for tp, o in committed.items()}
        )
        self._committed_offset.update(
            {tp: o or None for tp, o in committed.items() if o is not None}
        )
        await keeper.seek(self, committed)
        return None

    async def _force_commit(self: Any, *args: Any, **kwargs: Any) -> bool:
        did = bool(await force_commit(self, *args, **kwargs))
        keeper = keeper_of(self.app)
        if keeper is not None:
            did = await keeper.commit(self) or did
        return did

    Consumer.getmany = _getmany  # type: ignore[method-assign]
    Consumer.perform_seek = _perform_seek  # type: ignore[method-assign]
    Consumer.force_commit = _force_commit  # type: ignore[method-assign]
    _owned = True
