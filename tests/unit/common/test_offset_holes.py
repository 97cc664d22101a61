"""The holes of issue 15, driven through faust's real `Consumer` offset bookkeeping and the `Stage`.

faust's fetcher (`Consumer.getmany` and `_drain_messages`, with its read offsets and gaps), its
`perform_seek`, its acks and its commit (`Consumer.commit`) run as they are; only the broker under
them is a dict (`_Broker`): committed offsets, the consumer's position, and the records a fetch
returns, scripted per step. Each test asks one question: is any offset the worker commits past an
offset its stage never handled? (`lost`). The traced path of the issue is
`test_a_fetch_returned_across_a_rejoin_on_a_partition_with_no_commit`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from faust.transport.consumer import Consumer
from faust.types import TP

from services.common.settings import Settings
from services.common.worker import Stage

TOPIC = "holes-in"
TP0 = TP(TOPIC, 0)


class _Broker:
    def __init__(self) -> None:
        self.committed: dict[TP, int] = {}
        self.position: dict[TP, int] = {}
        self.fail_commits = 0  # the next n commits fail
        self.commits: list[dict[TP, int]] = []
        self.script: list[tuple[dict[TP, Any], bool]] = []  # (records, rejoin during fetch)
        self.seeks: list[tuple[TP, int]] = []


class _Consumer(Consumer):
    """faust's `Consumer` with the broker calls answered by `_Broker` (aiokafka's semantics)."""

    broker: _Broker
    tps: set[TP]
    fetcher: Any

    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        if self.broker.fail_commits:
            self.broker.fail_commits -= 1
            return False
        self.broker.commits.append(dict(offsets))
        self.broker.committed.update(offsets)
        return True

    async def seek_to_committed(self) -> Mapping[TP, int]:  # aiokafka: seeks only when > 0
        out: dict[TP, int] = {}
        for tp in self.tps:
            offset = self.broker.committed.get(tp)
            out[tp] = offset  # type: ignore[assignment]
            if offset and offset > 0:
                self.broker.position[tp] = offset
        return out

    async def _seek(self, partition: TP, offset: int) -> None:
        self.broker.seeks.append((partition, offset))
        self.broker.position[partition] = offset

    async def earliest_offsets(self, *partitions: TP) -> Mapping[TP, int]:
        return dict.fromkeys(partitions, 0)

    def assignment(self) -> set[TP]:
        return set(self.tps)

    def highwater(self, tp: TP) -> int:
        return 1000

    def _new_topicpartition(self, topic: str, partition: int) -> TP:
        return TP(topic, partition)

    async def _getmany(self, active_partitions: Any, timeout: float) -> Any:
        self.fetcher._stopped.set()  # one fetch per `_drain_messages` run
        if not self.broker.script:
            return {}
        records, rejoin = self.broker.script.pop(0)
        for tp, offsets in list(records.items()):
            if isinstance(offsets, int):  # n records from the position at this fetch
                start = self.broker.position.get(tp, 0)
                records[tp] = list(range(start, start + offsets))
        for tp, offsets in records.items():
            if offsets:
                self.broker.position[tp] = offsets[-1] + 1
        if rejoin:  # the group rejoins while this fetch waits: faust's revoke stops the flow
            self.stop_flow()
        return {
            tp: [SimpleNamespace(offset=o, timestamp=0, headers=None) for o in offsets]
            for tp, offsets in records.items()
        }

    def _to_message(self, tp: TP, record: Any) -> Any:
        from faust.types import Message

        return Message(
            tp.topic,
            tp.partition,
            record.offset,
            0.0,
            0,
            None,
            b"k",
            b"v",
            None,
            tp=tp,
            generation_id=self.app.consumer_generation_id,
        )

    # the abstract rest, never called here
    async def create_topic(self, *args: Any, **kwargs: Any) -> None: ...
    async def subscribe(self, topics: Iterable[str]) -> None: ...
    async def position(self, tp: TP) -> int | None:
        return self.broker.position.get(tp)

    async def seek_to_beginning(self, *partitions: Any) -> None: ...
    async def seek_wait(self, partitions: Mapping[TP, int]) -> None: ...
    def topic_partitions(self, topic: str) -> int | None:
        return 1

    async def highwaters(self, *partitions: TP) -> Mapping[TP, int]:
        return {}

    def close(self) -> None: ...
    def key_partition(self, topic: str, key: bytes | None, partition: int | None = None) -> int:
        return 0

    def verify_recovery_event_path(self, now: float, tp: TP) -> None: ...


class _Stream:
    """What the agent sees of faust's stream: events as the conductor delivers them; with acks on,
    an event is acked when the next one is asked for (faust's `Stream`)."""

    def __init__(self, consumer: _Consumer) -> None:
        self.consumer = consumer
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.channel = SimpleNamespace(queue=self.queue)
        self.enable_acks = True

    async def events(self) -> Any:
        prev = None
        while True:
            msg = await self.queue.get()
            if prev is not None and self.enable_acks:
                await self.ack(prev)
            prev = SimpleNamespace(message=msg)
            yield prev

    async def ack(self, event: Any) -> bool:
        return bool(self.consumer.ack(event.message))


class Pipeline:
    """One stage on faust's consumer, the broker scripted."""

    def __init__(self, batch_max: int) -> None:
        self.app = faust.App(f"holes-{batch_max}", broker="kafka://localhost:1", web_enabled=False)
        settings = Settings(_env_file=None, worker_batch_max=batch_max)
        self.handled: list[tuple[TP, int]] = []

        def compute(m: Any) -> list[Any]:
            self.handled.append((m.tp, m.offset))
            return []

        self.stage: Stage[Any] = Stage(
            app=self.app,
            settings=settings,
            name="holes",
            compute_record=compute,
            source=TOPIC,
            sink="",
        )
        if getattr(self.stage.source, "acks", True):  # what faust's conductor does on subscribe
            self.app.topics.acking_topics.add(TOPIC)
        self.broker = _Broker()
        self.base: dict[TP, int] = {}
        self.stream = _Stream(None)  # type: ignore[arg-type]

        async def deliver(message: Any) -> None:  # faust's conductor
            self.consumer.track_message(message)
            await self.stream.queue.put(message)

        self.consumer = _Consumer(
            self.app.transport,
            callback=deliver,
            on_partitions_revoked=self._noop,
            on_partitions_assigned=self._noop,
        )
        self.consumer.broker = self.broker
        self.consumer.tps = set()
        self.app.consumer = self.consumer
        self.stream.consumer = self.consumer
        self.agent: asyncio.Task[None] | None = None

    async def _noop(self, *args: Any) -> None: ...

    def given_committed(self, offset: int, tp: TP = TP0) -> None:
        """The group committed this before the test (what lies below was handled before)."""
        self.broker.committed[tp] = self.base[tp] = offset

    async def start(self) -> None:
        self.agent = asyncio.create_task(self.stage._agent(self.stream))

    async def stop(self) -> None:
        assert self.agent is not None
        self.agent.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.agent

    async def assign(self, generation: int, tps: Iterable[TP] = (TP0,)) -> None:
        """A rebalance: faust's revoke, the new generation, `Recovery._resume_streams`' seek."""
        self.app.flow_control.suspend()  # app.on_rebalance_start
        self.consumer.stop_flow()
        await self.consumer.on_partitions_revoked(set(self.consumer.tps))
        self.consumer.tps = set(tps)
        self.consumer._set_active_tps(set(tps))
        self.app.consumer_generation_id = generation
        await self.consumer.perform_seek()
        self.app.flow_control.resume()
        self.consumer.resume_flow()

    async def fetch(self, records: dict[TP, Iterable[int]], rejoin: bool = False) -> None:
        """One fetch through faust's `getmany` and `_drain_messages`, then the stage runs."""
        self.broker.script.append(({tp: list(r) for tp, r in records.items()}, rejoin))
        await self._drain()

    async def fetch_next(self, n: int, tp: TP = TP0) -> None:
        """A fetch from the broker's current position (what aiokafka would return next)."""
        self.broker.script.append(({tp: n}, False))
        await self._drain()

    async def _drain(self) -> None:
        fetcher = SimpleNamespace(_stopped=asyncio.Event())
        self.consumer.fetcher = fetcher
        self.consumer._stopped.clear()
        await self.consumer._drain_messages(fetcher)  # type: ignore[arg-type]
        await self.settle()

    async def settle(self) -> None:
        for _ in range(50):
            await asyncio.sleep(0)

    async def commit(self) -> None:
        await self.consumer.commit()  # faust's commit timer

    def lost(self) -> dict[TP, list[int]]:
        """Offsets below a committed offset that the stage never handled."""
        handled = set(self.handled)
        out = {}
        for tp, committed in self.broker.committed.items():
            missing = [o for o in range(self.base.get(tp, 0), committed) if (tp, o) not in handled]
            if missing:
                out[tp] = missing
        return out


def run(batch_max: int, scenario: Any) -> Pipeline:
    async def main() -> Pipeline:
        p = Pipeline(batch_max)
        await p.start()
        try:
            await scenario(p)
        finally:
            await p.stop()
        return p

    return asyncio.run(main())


BATCH = pytest.mark.parametrize("batch_max", [200, 1], ids=["batched", "one-at-a-time"])


@BATCH
def test_a_fetch_returned_across_a_rejoin_on_a_partition_with_no_commit(batch_max: int) -> None:
    """The traced path (issue 15, steps 1-5): fresh group, nothing committed. A fetch waiting in
    aiokafka across the rejoin returns the new assignment's records 0-4 and moves the position to
    5; they arrive while the flow is stopped, so faust drops them and `perform_seek`'s
    `seek_to_committed` does nothing (no commit). The stage then gets 5-9."""

    async def scenario(p: Pipeline) -> None:
        await p.assign(1)
        await p.fetch({TP0: range(5)}, rejoin=True)  # dropped by faust, position now 5
        await p.assign(2)
        for _ in range(3):
            await p.fetch_next(5)
            await p.commit()

    p = run(batch_max, scenario)
    assert p.lost() == {}, (p.broker.commits, p.handled)
    assert p.broker.committed.get(TP0, 0) >= 5  # and it made progress


@BATCH
def test_one_missing_record_at_the_head_is_not_committed_over(batch_max: int) -> None:
    """`_new_offset`'s head guard is `min(acked) - committed > 1`: with 10 committed and 11-15
    acked, record 10 is committed over (faust-streaming/faust#707)."""

    async def scenario(p: Pipeline) -> None:
        p.given_committed(10)
        await p.assign(1)
        await p.fetch({TP0: range(11, 16)})
        await p.commit()
        for _ in range(3):
            await p.fetch_next(6)
            await p.commit()

    p = run(batch_max, scenario)
    assert p.lost() == {}, p.broker.commits
    assert p.broker.committed[TP0] >= 16


@BATCH
def test_no_head_check_when_the_committed_offset_is_0(batch_max: int) -> None:
    """With 0 committed, faust keeps None (`offset if offset else None`), aiokafka does not seek,
    and `_new_offset` skips its head check: records 3-7 arriving first commit 8 over 0-2."""

    async def scenario(p: Pipeline) -> None:
        p.given_committed(0)
        await p.assign(1)
        await p.fetch({TP0: range(3, 8)})
        await p.commit()
        for _ in range(3):
            await p.fetch_next(8)
            await p.commit()

    p = run(batch_max, scenario)
    assert p.lost() == {}, p.broker.commits
    assert p.broker.committed[TP0] >= 8


@BATCH
def test_a_jump_in_the_fetched_offsets_is_not_taken_as_processed(batch_max: int) -> None:
    """`_add_gap` records a jump of the fetch (12-13 never delivered) as processed, and
    `_new_offset` commits through it. Our topics are contiguous: a jump is a missing record."""

    async def scenario(p: Pipeline) -> None:
        p.given_committed(10)
        await p.assign(1)
        await p.fetch({TP0: range(10, 12)})
        await p.fetch({TP0: range(14, 16)})
        await p.commit()
        for _ in range(3):
            await p.fetch_next(6)
            await p.commit()

    p = run(batch_max, scenario)
    assert p.lost() == {}, p.broker.commits
    assert p.broker.committed[TP0] >= 16


@BATCH
def test_a_failed_commit_is_kept_and_sent_again(batch_max: int) -> None:
    """`_commit_offsets` sets the local committed offset even when the commit failed, so the next
    commit has nothing to send and the broker keeps the old offset."""

    async def scenario(p: Pipeline) -> None:
        p.given_committed(10)
        await p.assign(1)
        await p.fetch({TP0: range(10, 15)})
        p.broker.fail_commits = 1
        await p.commit()  # fails
        await p.commit()  # must send 15 again

    p = run(batch_max, scenario)
    assert p.lost() == {}
    assert p.broker.committed[TP0] == 15, p.broker.commits
