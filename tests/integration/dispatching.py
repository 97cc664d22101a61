"""What the dispatcher tests share."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from services.common.topics import RedisKeys
from services.delivery.dispatch import Config, dispatch

# The test receivers listen on loopback, which the outbound guard refuses: the tests let exactly
# that network through, as `outbound_allow` (never the guard off).
LOOPBACK = ("127.0.0.1/32",)


async def group_ready(client: aioredis.Redis, keys: RedisKeys, wait_s: float = 20.0) -> None:
    """Until the dispatcher has created its consumer group (on a loaded machine a fixed sleep was
    not always enough, and alerts sent before it were never read)."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(Exception):
            if await client.xinfo_groups(keys.stream):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the dispatcher never created its consumer group")


@contextlib.asynccontextmanager
async def dispatching(
    client: aioredis.Redis, keys: RedisKeys, config: Config, **kw: Any
) -> AsyncIterator[asyncio.Task[None]]:
    """The dispatcher running in a task for the block; it must still be running at its end."""
    task = asyncio.create_task(dispatch(client, keys, config, **kw))
    try:
        yield task
        assert not task.done(), task.exception()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(done: Callable[[], Awaitable[bool]], wait_s: float = 5.0) -> None:
    """Polls `done` until it holds or `wait_s` passed (the caller asserts what it needs)."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while not await done() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
