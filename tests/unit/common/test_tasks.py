"""Background tasks are stopped even when a cancellation is lost (CPython gh-86296 on 3.11)."""

from __future__ import annotations

import asyncio

import pytest

from services.common.tasks import stop_tasks


def _stubborn(swallow: int, state: dict[str, int]) -> asyncio.Task[None]:
    """A loop that loses its first `swallow` cancellations, as a library's `wait_for` can."""

    async def loop() -> None:
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                state["lost"] += 1
                if state["lost"] > swallow:
                    raise

    return asyncio.create_task(loop())


async def test_cancel_once_and_await_hangs_on_a_lost_cancellation() -> None:
    state = {"lost": 0}
    task = _stubborn(1, state)
    await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(TimeoutError):  # what the dashboard's clean-up did
        async with asyncio.timeout(0.3):
            await asyncio.shield(task)
    await stop_tasks([task])


async def test_stop_tasks_cancels_again_until_the_task_ends() -> None:
    state = {"lost": 0}
    task = _stubborn(3, state)
    await asyncio.sleep(0.02)
    assert await stop_tasks([task], wait_s=5) == set()
    assert task.cancelled() and state["lost"] == 4


async def test_a_task_that_will_not_end_is_returned_and_a_failed_one_is_not_raised() -> None:
    state = {"lost": 0}
    stuck = _stubborn(10**9, state)

    async def fail() -> None:
        raise RuntimeError("boom")

    failed = asyncio.create_task(fail())
    await asyncio.sleep(0.02)
    assert await stop_tasks([stuck, failed], wait_s=0.3) == {stuck}
    assert failed.done() and not stuck.done()
    state["lost"] = 10**9  # let it go at the next cancellation
    stuck.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stuck
