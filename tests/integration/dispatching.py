"""What the dispatcher tests share."""

from __future__ import annotations

import asyncio
import contextlib

import redis.asyncio as aioredis

from services.common.topics import RedisKeys


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
