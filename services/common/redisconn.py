"""Redis clients: blocking pool (waits for a free connection instead of failing), retries, health checks."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.common.settings import Settings


def make_redis(settings: Settings, max_connections: int = 32) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis,
        max_connections=max_connections,
        timeout=10,
        health_check_interval=15,
        socket_connect_timeout=5,
        retry=Retry(ExponentialBackoff(cap=2.0, base=0.1), retries=3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return aioredis.Redis(connection_pool=pool)
