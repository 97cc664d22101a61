"""One delivery replica in its own process, to be SIGKILLed by a test:
`python -m tests.integration.dispatch_replica REDIS_URL PREFIX CONSUMER`."""

from __future__ import annotations

import asyncio
import sys

import redis.asyncio as aioredis

from services.common.retrying import Backoff
from services.common.topics import RedisKeys
from services.delivery.dispatch import Claiming, Config, dispatch


async def main(url: str, prefix: str, consumer: str) -> None:
    client = aioredis.Redis.from_url(url)
    await dispatch(
        client,
        RedisKeys(prefix),
        Config(webhook_secret="s", outbound_allow=("127.0.0.1/32",)),  # loopback receiver
        consumer=consumer,
        claiming=Claiming(idle_s=0.5, forget_s=0.5, every_s=0.1),
        block_ms=50,
        backoff=Backoff(base_s=0.05, cap_s=0.2),
    )


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
