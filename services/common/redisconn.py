"""Redis clients: blocking pool (waits for a free connection instead of failing), retries, health checks.

AUTH / ACL users go in the URL (`redis://user:password@host:6379/0`), TLS with `rediss://` (and
`redis_ssl_ca_certs` for a private CA). The URL is never logged: `safe_url` strips the password.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.common.settings import Settings

TRANSIENT = (RedisConnectionError, RedisTimeoutError, OSError)


def safe_url(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}:***@" if parts.username else "***@"
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, parts.query, ""))


def client_options(settings: Settings) -> dict[str, Any]:
    """Explicit retry policy and timeouts shared by every client; TLS CA for rediss://."""
    opts: dict[str, Any] = {
        "health_check_interval": 15,
        "socket_connect_timeout": 5,
        "socket_keepalive": True,
        "retry": Retry(ExponentialBackoff(cap=2.0, base=0.1), retries=3),
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
    """For pub/sub: no socket read timeout (a quiet channel is not an error), same retries and TLS."""
    return aioredis.Redis.from_url(settings.redis, **client_options(settings))
