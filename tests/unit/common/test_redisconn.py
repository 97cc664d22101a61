"""Every Redis client comes from the factory: the shared retry policy (its waits from
services/common/retrying.py) and, for `rediss://`, the private CA."""

from __future__ import annotations

import random
from pathlib import Path

from redis.asyncio import Redis

from services.common.redisconn import (
    COMMAND_RETRIES,
    PolicyBackoff,
    make_probe_client,
    make_redis,
    make_subscriber_client,
)
from services.common.retrying import COMMAND
from services.common.settings import Settings

TLS = Settings(redis_url="rediss://u:p@redis.example:6380/0", redis_ssl_ca_certs=Path("/ca.pem"))


def _kwargs(client: Redis) -> dict[str, object]:
    return dict(client.connection_pool.connection_kwargs)


def test_every_client_gets_the_ca_and_the_policys_retries() -> None:
    for client in (make_redis(TLS), make_subscriber_client(TLS)):
        kw = _kwargs(client)
        assert kw["ssl_ca_certs"] == "/ca.pem"
        retry = client.get_retry()
        assert retry is not None and retry._retries == COMMAND_RETRIES
        assert isinstance(retry._backoff, PolicyBackoff) and retry._backoff.policy is COMMAND


def test_the_probe_client_has_the_ca_and_tries_once() -> None:
    client = make_probe_client(TLS)
    assert _kwargs(client)["ssl_ca_certs"] == "/ca.pem"
    assert _kwargs(client)["socket_connect_timeout"] == 1
    retry = client.get_retry()
    assert retry is not None and retry._retries == 0


def test_the_clients_waits_are_the_policys_with_jitter() -> None:
    backoff = PolicyBackoff(COMMAND)
    random.seed(7)
    got = [backoff.compute(n) for n in (1, 2, 3, 10)]
    random.seed(7)
    assert got == [COMMAND.delay(n) for n in (1, 2, 3, 10)]
    assert got[-1] <= COMMAND.cap_s * (1 + COMMAND.jitter)
