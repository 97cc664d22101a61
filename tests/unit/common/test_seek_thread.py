"""The worker's seeks run in faust's consumer thread, where aiokafka lives (chaos seed 3018)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from services.common.offsets import seek_in_consumer_thread


class _ConsumerThread:
    """faust's AIOKafkaConsumerThread as far as seeking goes: its own loop in its own thread,
    `call_thread` to run a function there, a synchronous `seek` (aiokafka's)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.seeks: list[tuple[Any, int, int]] = []

    def seek(self, tp: Any, offset: int) -> None:
        self.seeks.append((tp, offset, threading.get_ident()))

    async def call_thread(self, fun: Callable[..., Any], *args: Any) -> Any:
        async def run() -> Any:
            result = fun(*args)
            return await result if isinstance(result, Awaitable) else result

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), self.loop))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class _Consumer:
    def __init__(self, thread: _ConsumerThread) -> None:
        self._thread = thread
        self._read_offset: dict[Any, int | None] = {}


async def test_the_seek_runs_in_the_consumer_thread_and_sets_the_read_offset() -> None:
    thread = _ConsumerThread()
    try:
        consumer = _Consumer(thread)
        await seek_in_consumer_thread(consumer, "tagged/1", 26)
        ((tp, offset, ident),) = thread.seeks
        assert (tp, offset) == ("tagged/1", 26)
        assert ident == thread.thread.ident != threading.get_ident()
        assert consumer._read_offset == {"tagged/1": 26}
    finally:
        thread.stop()
