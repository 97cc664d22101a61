"""How long the event loop was held: a ticker that records the clock between its wake-ups."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable


@contextlib.asynccontextmanager
async def loop_holds(clock: Callable[[], float], tick_s: float) -> AsyncIterator[list[float]]:
    """The list, filled while inside, of `clock` time between two ticks `tick_s` apart: with
    `loop.time` the wall-clock stalls, with `time.thread_time` the loop thread's CPU time (what
    other callbacks held it for, without the time the OS gave other processes)."""
    holds: list[float] = []

    async def ticker() -> None:
        last = clock()
        while True:
            await asyncio.sleep(tick_s)
            now = clock()
            holds.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(2 * tick_s)
    try:
        yield holds
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
