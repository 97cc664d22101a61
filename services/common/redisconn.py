"""Redis clients: blocking pool (waits for a free connection instead of failing), retries, health checks.

AUTH / ACL users go in the URL (`redis://user:password@host:6379/0`), TLS with `rediss://` (and
`redis_ssl_ca_certs` for a private CA). The URL is never logged: `safe_url` (the one `mask_url`) masks the password.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import AbstractBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.common.redact import mask_url
from services.common.retrying import COMMAND, Backoff
from services.common.settings import Settings

TRANSIENT = (RedisConnectionError, RedisTimeoutError, OSError)
COMMAND_RETRIES = 3  # a command whose connection dropped is retried in place this often
safe_url = mask_url  # the name callers of this module know


class PolicyBackoff(AbstractBackoff):
    """redis-py's retry waits taken from the project's policy (services/common/retrying.py), so
    the client's own retries have the same arithmetic and jitter as every other loop."""

    def __init__(self, policy: Backoff) -> None:
        self.policy = policy

    def compute(self, failures: int) -> float:
        return self.policy.delay(failures)


def client_options(settings: Settings) -> dict[str, Any]:
    """Explicit retry policy and timeouts shared by every client; TLS CA for rediss://."""
    opts: dict[str, Any] = {
        "health_check_interval": 15,
        "socket_connect_timeout": 5,
        "socket_keepalive": True,
        "retry": Retry(PolicyBackoff(COMMAND), retries=COMMAND_RETRIES),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
    }
    if settings.redis.startswith("rediss://") and settings.redis_ssl_ca_certs:
        opts["ssl_ca_certs"] = str(settings.redis_ssl_ca_certs)
    return opts


def make_redis(settings: Settings, max_connections: int = 32) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis,
        max_connections=max_connections,
        timeout=10,
        socket_timeout=10,
        **client_options(settings),
    )
    return aioredis.Redis(connection_pool=pool)


def make_subscriber_client(settings: Settings) -> aioredis.Redis:
    """For long reads (pub/sub, the dashboard's blocking stream reads, one connection per open
    page): no socket read timeout (a quiet channel is not an error) and no cap on connections;
    same retries and TLS."""
    return aioredis.Redis.from_url(settings.redis, **client_options(settings))


def make_probe_client(settings: Settings) -> aioredis.Redis:
    """For a probe (readiness, the local stack's start-up wait): the same TLS, one quick try. A
    probe that retried would answer late, and its caller asks again anyway."""
    opts = client_options(settings)
    opts.update(socket_connect_timeout=1, retry=Retry(PolicyBackoff(COMMAND), retries=0))
    opts.pop("retry_on_error")
    return aioredis.Redis.from_url(settings.redis, **opts)
