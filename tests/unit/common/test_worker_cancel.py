"""A cancellation of a worker's send must never be swallowed (CPython gh-86296: on 3.11,
`asyncio.wait_for` returns the inner result when the cancel arrives as the inner call ends)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.common.worker import send_acked


class _Topic:
    """A faust topic whose `send` ends in the same loop step in which its caller is cancelled."""

    def __init__(self) -> None:
        self.sending = asyncio.Event()
        self.release: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def send(self, **_: Any) -> asyncio.Future[None]:
        self.sending.set()
        await self.release
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_a_cancel_arriving_as_the_send_completes_is_not_swallowed() -> None:
    topic = _Topic()
    after_send: list[str] = []

    async def sender() -> None:
        await send_acked(topic, b"k", b"v", timeout=5.0)
        after_send.append("carried on")
        await asyncio.sleep(0)  # the first await after the send: a pending cancel lands here

    task = asyncio.create_task(sender())
    await topic.sending.wait()
    topic.release.set_result(None)  # the send completes ...
    task.cancel()  # ... in the same step as the cancel
    with pytest.raises(asyncio.CancelledError):
        await task
    assert after_send == []
