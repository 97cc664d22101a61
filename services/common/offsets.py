"""The worker owns its commits: per partition, a watermark of contiguously handled offsets.

Why (issue 15): faust's commit arithmetic turns a record that never reached the stage into a
committed offset. Its state for a partition is rebuilt from aiokafka's position, which a fetch
returned across a rejoin can leave past records faust then drops; `seek_to_committed` does not
seek back when nothing is committed yet; `_new_offset` commits over one missing head record (and
over any when the committed offset is None or 0); `_add_gap` counts a jump of a fetch as
processed; a failed commit is remembered as done. Each of these loses records silently, with
every offset committed (tests/unit/common/test_offset_holes.py drives faust into each).

So faust's own acks and committer are off for the pipeline topics (`acks=False`), and this
module decides what is committed:

- At every assignment (faust's `perform_seek`, patched in `faust_patches.own_offsets`) each
  partition gets a watermark for the consumer generation: the broker's committed offset, or with
  no commit yet the partition's beginning, and the consumer is sought there explicitly; never
  "wherever aiokafka's position happens to be".
- A record is handed to the stage only if it is the next offset of its partition in the current
  generation (`accept`); one of an older generation, or below it, is dropped (already had);
  one past it means records are missing: the partition stalls, visibly (a warning per stall and
  per recovery), and is sought back to the watermark (`reseek`). A gap is never skipped.
- The watermark advances only when the stage has made a record's outputs or dead letter durable
  (`handled`), so it never passes an offset not handled.
- Commits go through aiokafka, and only while its generation is the watermark's
  (`commit_in_generation`); a failed commit leaves the watermark uncommitted, to be sent again.

With `NEWSWIRE_OFFSET_AUDIT_DIR` set (the fault tier), every handled offset and every commit is
appended to a file per process, which the fault harness checks independently of this code.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

log = logging.getLogger(__name__)

RESEEK_AFTER_S = 5.0  # a partition still stalled this long is sought back again


@dataclass
class Watermark:
    generation: int
    handled: int  # every offset below was handled durably (or committed before this generation)
    expected: int  # the next offset the stage may take (handed out, maybe not yet handled)
    committed: int | None  # what the group has committed, as far as we know
    stalled_at: float | None = None  # when a missing offset was seen (None: flowing)
    sought_at: float = 0.0


class Audit:
    """Handled offsets and commits as lines in a file per process (O_APPEND: a kill -9 loses
    nothing written). `H topic partition first last ns` / `C topic partition offset ns`."""

    def __init__(self, directory: str, group: str) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        path = Path(directory) / f"{group}.{os.getpid()}.{time.time_ns()}.audit"
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def handled(self, tp: Any, offsets: Sequence[int]) -> None:
        ordered = sorted(set(offsets))
        runs: list[list[int]] = []
        for o in ordered:  # one line per run of consecutive offsets
            if runs and runs[-1][1] == o - 1:
                runs[-1][1] = o
            else:
                runs.append([o, o])
        for first, last in runs:
            self._write(f"H {tp.topic} {tp.partition} {first} {last} ")

    def commit(self, offsets: Mapping[Any, int]) -> None:
        for tp, offset in offsets.items():
            self._write(f"C {tp.topic} {tp.partition} {offset} ")

    def _write(self, line: str) -> None:
        os.write(self.fd, f"{line}{time.time_ns()}\n".encode())


class OffsetKeeper:
    """The watermarks of one app's pipeline topics (see the module's docstring)."""

    def __init__(self, topics: Iterable[str], group: str = "") -> None:
        self.topics = set(topics)
        self.parts: dict[Any, Watermark] = {}
        directory = os.environ.get("NEWSWIRE_OFFSET_AUDIT_DIR")
        self.audit = Audit(directory, group) if directory else None
        self.stalls = 0

    # ---- assignment ----------------------------------------------------------------------
    async def seek(self, consumer: Any, committed: Mapping[Any, int | None]) -> None:
        """After faust's seek to the committed offsets: each assigned pipeline partition of the
        current generation keeps its watermark, a new one starts at the committed offset or the
        partition's beginning, and the consumer is sought there."""
        generation = consumer.app.consumer_generation_id
        assigned = {tp for tp in consumer.assignment() if tp.topic in self.topics}
        for tp in list(self.parts):
            if tp not in assigned or self.parts[tp].generation != generation:
                del self.parts[tp]
        fresh = [tp for tp in assigned if tp not in self.parts]
        unset = [tp for tp in fresh if committed.get(tp) is None]
        earliest = await consumer.earliest_offsets(*unset) if unset else {}
        for tp in fresh:
            c = committed.get(tp)
            start = c if c is not None else earliest.get(tp, 0)
            self.parts[tp] = Watermark(generation, start, start, c)
        for tp in assigned:
            await self._seek(consumer, tp, self.parts[tp].expected)

    async def _seek(self, consumer: Any, tp: Any, offset: int) -> None:
        try:
            await seek_in_consumer_thread(consumer, tp, offset)
        except Exception as exc:  # not assigned any more: the next rebalance decides
            log.warning("seek %s[%s] to %s failed: %r", tp.topic, tp.partition, offset, exc)
        part = self.parts.get(tp)
        if part is not None:
            part.sought_at = time.monotonic()

    # ---- the records -----------------------------------------------------------------------
    def accept(self, msg: Any) -> bool:
        """Whether the stage takes this record: the next of its partition in this generation."""
        part = self.parts.get(msg.tp)
        if part is None or msg.generation_id != part.generation:
            return False  # fetched for an assignment that is gone
        if msg.offset < part.expected:
            return False  # had already (a re-fetch after a seek)
        if msg.offset > part.expected:
            if part.stalled_at is None:
                part.stalled_at = time.monotonic()
                self.stalls += 1
                log.warning(
                    "offsets: %s[%s] stalled: got %s, missing %s..%s; seeking back to %s",
                    msg.topic,
                    msg.partition,
                    msg.offset,
                    part.expected,
                    msg.offset - 1,
                    part.expected,
                )
            return False
        if part.stalled_at is not None:
            log.warning(
                "offsets: %s[%s] resumed at %s after %.1fs",
                msg.topic,
                msg.partition,
                msg.offset,
                time.monotonic() - part.stalled_at,
            )
            part.stalled_at = None
        part.expected += 1
        return True

    def handled(self, msgs: Sequence[Any]) -> None:
        """These records' outputs (or dead letters) are durable: advance over the contiguous."""
        done: dict[Any, list[int]] = {}
        for msg in msgs:
            part = self.parts.get(msg.tp)
            done.setdefault(msg.tp, []).append(msg.offset)
            live = part is not None and msg.generation_id == part.generation
            if live and part is not None and msg.offset == part.handled:
                part.handled += 1
        if self.audit is not None:
            for tp, offsets in done.items():
                self.audit.handled(tp, offsets)

    def stalled(self) -> bool:
        return any(p.stalled_at is not None for p in self.parts.values())

    async def reseek(self, consumer: Any, force: bool = False) -> None:
        """Seek stalled partitions back to the next offset the stage needs (again after
        `RESEEK_AFTER_S`). Called by faust's fetcher before it fetches (`own_offsets`), when the
        records of the previous fetch are all handed over: a seek from the agent would be undone
        by the fetcher setting faust's read offset past it for the records still in hand. Every
        offset below `expected` is handled or in the stage's hands (handled before the next
        batch, or lost with the generation or the process, which resets the watermark)."""
        now = time.monotonic()
        for tp, part in list(self.parts.items()):
            if part.stalled_at is None:
                continue
            if (
                not force
                and part.sought_at > part.stalled_at
                and now - part.sought_at < (RESEEK_AFTER_S)
            ):
                continue
            if part.sought_at > part.stalled_at:  # sought before and still stalled: deleted?
                first = (await consumer.earliest_offsets(tp)).get(tp, 0)
                if first > part.handled:
                    log.error(
                        "offsets: %s[%s] %s..%s deleted before handled (retention)",
                        tp.topic,
                        tp.partition,
                        part.handled,
                        first - 1,
                    )
                    part.handled = part.expected = first
            await self._seek(consumer, tp, part.expected)

    # ---- commits ---------------------------------------------------------------------------
    def due(self) -> tuple[int | None, dict[Any, int]]:
        """The generation and the watermarks not committed yet."""
        offsets = {
            tp: p.handled
            for tp, p in self.parts.items()
            if p.committed is None or p.handled > p.committed
        }
        gens = {self.parts[tp].generation for tp in offsets}
        if len(gens) != 1:
            return None, {}
        return gens.pop(), offsets

    async def commit(self, consumer: Any) -> bool:
        generation, offsets = self.due()
        if generation is None or not offsets:
            return False
        if self.audit is not None:
            self.audit.commit(offsets)
        ok = await commit_in_generation(consumer, offsets, generation)
        if not ok:
            log.info("offsets: commit %s not made (generation %s); kept", offsets, generation)
            return False
        for tp, offset in offsets.items():
            part = self.parts.get(tp)
            if part is not None and part.generation == generation:
                part.committed = max(offset, part.committed or 0)
        return True


_KEEPERS: WeakKeyDictionary[Any, OffsetKeeper] = WeakKeyDictionary()


async def seek_in_consumer_thread(consumer: Any, tp: Any, offset: int) -> None:
    """faust's `Consumer.seek`, with aiokafka's seek run in faust's consumer thread.

    faust (0.15.3) calls aiokafka's `seek` from the caller's thread, while aiokafka's consumer
    lives in faust's consumer thread: its fetcher may be walking its fetched records then, and a
    seek deletes one under it (seen in the chaos campaign, seed 3018: `KeyError` in aiokafka's
    `fetched_records`, the fetcher crashed and the tagging worker with it). In the thread's own
    loop the seek runs between the fetcher's steps."""
    thread = getattr(consumer, "_thread", None)
    if thread is None or not hasattr(thread, "call_thread"):
        await consumer.seek(tp, offset)
        return
    await thread.call_thread(thread.seek, tp, offset)
    consumer._read_offset[tp] = offset if offset else None  # as faust's seek: re-read from there


def keeper_for(app: Any, topic: str) -> OffsetKeeper:
    """The app's keeper, now also of this topic."""
    keeper = _KEEPERS.get(app)
    if keeper is None:
        keeper = _KEEPERS[app] = OffsetKeeper((), group=str(app.conf.id))
    keeper.topics.add(topic)
    return keeper


def keeper_of(app: Any) -> OffsetKeeper | None:
    return _KEEPERS.get(app)


async def commit_in_generation(consumer: Any, offsets: Mapping[Any, int], generation: int) -> bool:
    """Commit through aiokafka, in its consumer thread, only while its group generation is the
    watermarks' one (the broker refuses an older generation itself). False: not committed."""
    thread = getattr(consumer, "_thread", None)
    if thread is None:  # a consumer without aiokafka's thread (the unit tests' broker)
        if consumer.app.consumer_generation_id != generation:
            return False
        return bool(await consumer._commit(offsets))

    from aiokafka.errors import KafkaError
    from aiokafka.structs import OffsetAndMetadata, TopicPartition

    async def in_thread() -> bool:
        client = thread._ensure_consumer()
        if client._coordinator.generation != generation:
            return False
        assigned = client.assignment()
        wanted = {
            TopicPartition(tp.topic, tp.partition): OffsetAndMetadata(offset, "")
            for tp, offset in offsets.items()
            if TopicPartition(tp.topic, tp.partition) in assigned
        }
        if len(wanted) != len(offsets):
            return False
        try:
            await client.commit(wanted)
        except (KafkaError, AssertionError) as exc:
            log.warning("offsets: commit failed (%s: %s); kept", type(exc).__name__, exc)
            return False
        return True

    return bool(await thread.call_thread(in_thread))
