"""Stopping an aiokafka consumer: aiokafka's own CancelledError is not the caller's."""

from __future__ import annotations

import asyncio

import pytest

from services.common.kafka import stop_quietly


class _Consumer:
    """Stops the way aiokafka 0.14's consumer without a group can: it awaits a task it cancelled
    before that task ever ran, so `stop()` raises CancelledError."""

    async def stop(self) -> None:
        task = asyncio.create_task(asyncio.sleep(1))
        task.cancel()
        await task


async def test_aiokafkas_own_cancelled_error_is_dropped() -> None:
    with pytest.raises(asyncio.CancelledError):  # what the chaos campaign's reads met
        await _Consumer().stop()
    await stop_quietly(_Consumer())  # returns


async def test_the_callers_own_cancellation_is_raised() -> None:
    class Slow:
        async def stop(self) -> None:
            await asyncio.sleep(10)

    task = asyncio.create_task(stop_quietly(Slow()))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
