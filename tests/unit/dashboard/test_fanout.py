"""The SSE fan-out: one reader's entries reach every listener; a full queue drops its listener
(never blocks the others, never grows); a cap on listeners; stream ids ordered numerically."""

from __future__ import annotations

import asyncio

from services.dashboard.fanout import Entry, Fanout, entry_order


def test_entries_reach_every_listener_and_a_full_queue_is_dropped() -> None:
    fan = Fanout(max_clients=3, queue_size=2)
    fast, slow = fan.join(), fan.join()
    assert fast is not None and slow is not None
    fan.publish([("1-0", "a")])
    assert fast.queue.get_nowait() == ("1-0", "a")
    fan.publish([("2-0", "b"), ("3-0", "c")])  # slow now holds 3 > 2: dropped
    assert slow.dropped.is_set() and slow not in fan.listeners
    assert not fast.dropped.is_set() and fast.queue.qsize() == 2
    assert fan.dropped_total == 1
    fan.publish([("4-0", "d")])
    assert slow.queue.qsize() == 2  # a dropped listener gets nothing more


def test_a_cap_on_listeners() -> None:
    fan = Fanout(max_clients=2, queue_size=1)
    first = fan.join()
    assert first is not None and fan.join() is not None and fan.join() is None
    fan.leave(first)
    assert fan.join() is not None


def test_entry_order_is_numeric() -> None:
    assert entry_order("10-0") > entry_order("9-5") and entry_order("5-10") > entry_order("5-9")


async def test_the_reader_resumes_from_its_cursor_after_a_failure() -> None:
    fan = Fanout(max_clients=1, queue_size=10)
    listener = fan.join()
    assert listener is not None
    cursors: list[str] = []
    script: list[list[Entry] | Exception] = [[("5-0", "a")], OSError("gone"), [("6-0", "b")]]

    async def start() -> str:
        return "4-0"

    async def read(cursor: str) -> list[Entry]:
        cursors.append(cursor)
        if not script:
            await asyncio.sleep(3600)
        step = script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    task = asyncio.create_task(fan.run(start, read, retry_s=0))
    got = [await asyncio.wait_for(listener.queue.get(), 2) for _ in range(2)]
    task.cancel()
    assert got == [("5-0", "a"), ("6-0", "b")]
    assert cursors == ["4-0", "5-0", "5-0", "6-0"]
