"""The delivery process scaled out: replicas share the alert stream's consumer group, each alert
goes out once, and what a killed replica left pending is delivered by another (issue 34: every
replica joined as `dispatcher-1`, so two replicas stole each other's entries)."""

from __future__ import annotations

import asyncio
import collections
import os
import sys
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from aiohttp import web

from schemas import Subscription, Target
from services.common.retrying import Backoff
from services.common.settings import Settings
from services.common.topics import RedisKeys
from services.delivery.dispatch import Claiming, Config, consumer_name
from services.delivery.sink import RedisDelivery
from services.delivery.subscriptions import SubscriptionStore
from services.delivery.webhooks import ID_HEADER
from tests.conftest import free_port
from tests.factories import make_alert
from tests.integration.dispatching import LOOPBACK, dispatching, group_ready, until

pytestmark = pytest.mark.integration
FAST = Backoff(base_s=0.05, cap_s=0.2)
QUICK = Claiming(idle_s=0.5, forget_s=0.5, every_s=0.1)


class Receiver:
    """Counts the alerts it accepted; while `hang` it never answers (a replica's delivery in
    flight when it is killed)."""

    def __init__(self) -> None:
        self.got: collections.Counter[str] = collections.Counter()
        self.hung = 0
        self.hang = False
        self.port = free_port()

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        if self.hang:
            self.hung += 1
            await asyncio.sleep(3600)
        self.got[request.headers[ID_HEADER]] += 1
        return web.Response(status=204)


@pytest.fixture
async def redis_client(stack: Settings) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(stack.redis)
    yield client
    await client.aclose()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rcv = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rcv.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", rcv.port).start()
    yield rcv
    await runner.cleanup()


async def _subscribed(client: aioredis.Redis, rcv: Receiver) -> tuple[RedisKeys, RedisDelivery]:
    keys = RedisKeys(f"rep{uuid.uuid4().hex[:6]}")
    url = f"http://127.0.0.1:{rcv.port}/hook"
    await SubscriptionStore(client, keys).add(
        Subscription(name="all", targets=[Target(kind="webhook", fields={"url": url})])
    )
    return keys, RedisDelivery(client, keys, ttl_s=60, maxlen=1000)


async def _send(delivery: RedisDelivery, n: int) -> set[str]:
    alerts = [make_alert(story_id=f"s{i}", article_id=f"a{i}") for i in range(n)]
    for a in alerts:
        await delivery.deliver(a)
    return {a.id for a in alerts}


async def _consumers(client: aioredis.Redis, keys: RedisKeys) -> dict[str, int]:
    rows = await client.xinfo_consumers(keys.stream, "webhooks")
    return {r["name"].decode(): r["pending"] for r in rows}


def test_replicas_have_their_own_consumer_names() -> None:
    assert consumer_name() != "dispatcher-1"
    assert consumer_name().endswith(f"-{os.getpid()}")


async def test_two_replicas_deliver_each_alert_once(
    redis_client: aioredis.Redis, receiver: Receiver
) -> None:
    keys, delivery = await _subscribed(redis_client, receiver)
    cfg = Config(webhook_secret="s", outbound_allow=LOOPBACK)  # loopback receivers, allowed
    kw = {"block_ms": 50, "backoff": FAST, "claiming": QUICK}
    async with (
        dispatching(redis_client, keys, cfg, consumer="a", **kw),
        dispatching(redis_client, keys, cfg, consumer="b", **kw),
    ):
        await group_ready(redis_client, keys)
        await until(lambda: _both_joined(redis_client, keys))
        sent = await _send(delivery, 40)

        async def all_acked() -> bool:
            return (
                set(receiver.got) == sent
                and (await redis_client.xpending(keys.stream, "webhooks"))["pending"] == 0
            )

        await until(all_acked, wait_s=20)
        await asyncio.sleep(1.0)  # past the claim idle time: nothing is delivered a second time
    assert set(receiver.got) == sent
    assert set(receiver.got.values()) == {1}
    assert set(await _consumers(redis_client, keys)) <= {"a", "b"}


async def _both_joined(client: aioredis.Redis, keys: RedisKeys) -> bool:
    try:
        return set(await _consumers(client, keys)) == {"a", "b"}
    except aioredis.ResponseError:
        return False


async def test_entries_of_a_killed_replica_are_delivered_by_another(
    stack: Settings, redis_client: aioredis.Redis, receiver: Receiver
) -> None:
    """The first replica runs in its own process and is SIGKILLed while its deliveries hang."""
    keys, delivery = await _subscribed(redis_client, receiver)
    receiver.hang = True
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.dispatch_replica",
        stack.redis,
        keys.prefix,
        "killed",
    )
    try:
        await group_ready(redis_client, keys)
        sent = await _send(delivery, 3)

        async def all_read() -> bool:
            return (await _consumers(redis_client, keys)).get("killed") == 3

        await until(all_read, wait_s=20)
        await until(lambda: _true(receiver.hung >= 1), wait_s=10)
    finally:
        proc.kill()
        await proc.wait()
    assert receiver.hung >= 1  # its delivery was in flight when it was killed
    assert (await _consumers(redis_client, keys))["killed"] == 3
    assert not receiver.got
    receiver.hang = False
    cfg = Config(webhook_secret="s", outbound_allow=LOOPBACK)  # loopback receivers, allowed
    async with dispatching(
        redis_client, keys, cfg, consumer="survivor", block_ms=50, backoff=FAST, claiming=QUICK
    ):

        async def taken_over() -> bool:
            return set(receiver.got) == sent and "killed" not in await _consumers(
                redis_client, keys
            )

        await until(taken_over, wait_s=20)
    assert set(receiver.got) == sent and set(receiver.got.values()) == {1}
    assert (await redis_client.xpending(keys.stream, "webhooks"))["pending"] == 0
    assert set(await _consumers(redis_client, keys)) == {"survivor"}  # the dead one forgotten


async def _true(value: bool) -> bool:
    return value
