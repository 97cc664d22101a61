"""Is Kafka there, is Redis there: one metadata request, one PING. Used by readiness (`/readyz`),
`newswire health` and the local stack's start-up wait."""

from __future__ import annotations

import contextlib
import logging


async def kafka_ready(bootstrap: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # connection refused is expected while the broker starts
    try:
        await admin.start()
        await admin.list_topics()
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
        quiet.setLevel(level)
    return True


async def redis_ready(url: str) -> bool:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()
