"""`newswire run webhooks` as Kubernetes sees it: its own process answering /livez, /readyz and
/metrics, counting deliveries and dead letters per channel with their latency (issue 34: the
delivery process had none of them)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiohttp import web

from schemas import Subscription, Target
from services.common.kafka import ensure_topics
from services.common.settings import Settings
from services.common.topics import RedisKeys
from services.delivery.sink import RedisDelivery
from services.delivery.subscriptions import SubscriptionStore
from tests.conftest import free_port, settings_env
from tests.factories import make_alert
from tests.integration.dispatching import group_ready, until
from tests.integration.test_health_metrics import _get, _sample

pytestmark = pytest.mark.integration


@pytest.fixture
async def receiver() -> AsyncIterator[int]:
    """Accepts /ok, refuses /bad with a 400 (permanent: dead-lettered at once)."""

    async def ok(_: web.Request) -> web.Response:
        return web.Response(status=204)

    async def bad(_: web.Request) -> web.Response:
        return web.Response(status=400)

    app = web.Application()
    app.router.add_post("/ok", ok)
    app.router.add_post("/bad", bad)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield port
    await runner.cleanup()


async def test_delivery_process_serves_probes_and_counts_per_channel(
    stack: Settings, receiver: int, tmp_path: Path
) -> None:
    await ensure_topics(stack)
    prefix = f"dp{uuid.uuid4().hex[:6]}"
    keys = RedisKeys(prefix)
    client = aioredis.Redis.from_url(stack.redis)
    store = SubscriptionStore(client, keys)
    for name, path in (("good", "ok"), ("refused", "bad")):
        url = f"http://127.0.0.1:{receiver}/{path}"
        target = Target(kind="webhook", fields={"url": url})
        await store.add(Subscription(name=name, targets=[target]))
    port = free_port()
    env = {
        **os.environ,
        **settings_env(stack),
        "NEWSWIRE_REDIS_PREFIX": prefix,
        "NEWSWIRE_METRICS_PORT": str(port),
        "NEWSWIRE_WEBHOOK_SECRET": "test-secret",
        "NEWSWIRE_OUTBOUND_ALLOW": '["127.0.0.1/32"]',  # its receiver is on loopback
        "NEWSWIRE_LOG_FORMAT": "json",
    }
    log = tmp_path / "webhooks.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "services.cli", "run", "webhooks"),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    try:

        async def live() -> bool:
            assert proc.returncode is None, log.read_text()
            try:
                return (await asyncio.to_thread(_get, f"{url}/livez"))[0] == 200
            except OSError:
                return False

        await until(live, wait_s=60)
        assert await live(), log.read_text()
        status, body = await asyncio.to_thread(_get, f"{url}/readyz")
        assert status == 200 and json.loads(body)["checks"] == {"redis": True}
        await group_ready(client, keys)
        consumers = await client.xinfo_consumers(keys.stream, "webhooks")
        assert [c["name"].decode() for c in consumers] == [f"{os.uname().nodename}-{proc.pid}"]
        await RedisDelivery(client, keys, ttl_s=60, maxlen=1000).deliver(make_alert())

        async def counted() -> bool:
            text = (await asyncio.to_thread(_get, f"{url}/metrics"))[1]
            return _sample(text, "newswire_deliveries_total", channel="webhook", outcome="dead") > 0

        await until(counted, wait_s=30)
        text = (await asyncio.to_thread(_get, f"{url}/metrics"))[1]
    finally:
        if proc.returncode is None:
            proc.terminate()
        await asyncio.wait_for(proc.wait(), timeout=20)
        await client.aclose()
    delivered = {"channel": "webhook", "outcome": "delivered"}
    assert _sample(text, "newswire_deliveries_total", **delivered) == 1, log.read_text()
    assert _sample(text, "newswire_deliveries_total", channel="webhook", outcome="dead") == 1
    assert _sample(text, "newswire_delivery_latency_seconds_count", channel="webhook") == 2
    assert proc.returncode == 0, log.read_text()  # SIGTERM: a clean stop
