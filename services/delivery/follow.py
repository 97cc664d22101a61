"""The subscriber's loop: catch up from the stream, then go live without a gap or a repeat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from schemas import Alert, Digest, Subscription
from services.common.redisconn import client_options, make_redis
from services.common.settings import Settings
from services.common.tasks import stop_tasks
from services.common.topics import RedisKeys
from services.delivery.history import read_since
from services.delivery.live import alerts
from services.delivery.subscriptions import matches


async def follow(
    settings: Settings,
    *,
    channel: str,
    flt: Subscription | None = None,
    since: str | None = None,
) -> AsyncIterator[Alert | Digest]:
    """Subscribes first, then reads history, so an alert published in between is not missed."""
    live: asyncio.Queue[Alert | Digest] = asyncio.Queue()
    ready = asyncio.Event()

    async def pump() -> None:
        # Resubscribes after a dropped connection and backfills the gap from the stream.
        opts = client_options(settings)
        opts.pop("retry_on_error")
        keys = RedisKeys(settings.redis_prefix)
        async for item in alerts(settings.redis, channel, ready, options=opts, keys=keys):
            await live.put(item)

    task = asyncio.create_task(pump())
    try:
        await ready.wait()
        seen: set[str] = set()
        if since is not None:
            client = make_redis(settings)
            try:
                history = await read_since(client, RedisKeys(settings.redis_prefix), since)
            finally:
                await client.aclose()
            for _, alert in history:
                seen.add(alert.id)
                if flt is None or matches(flt, alert):
                    yield alert
        while True:
            item = await live.get()
            if isinstance(item, Alert) and (
                item.id in seen or (flt is not None and not matches(flt, item))
            ):
                continue
            yield item
    finally:
        await stop_tasks([task])
