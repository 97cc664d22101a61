"""The dashboard's event stream on real Redis: history first, then live alerts, and a reconnect with
Last-Event-ID gets exactly what it missed (what makes "a reload loses nothing" true)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from schemas import Alert
from services.common.kafka import ensure_topics
from services.common.settings import Settings
from services.common.topics import RedisKeys
from services.dashboard.app import CSP, make_app
from services.delivery.sink import RedisDelivery
from tests.conftest import free_port
from tests.factories import make_alert

pytestmark = pytest.mark.integration


def _alert(n: int) -> Alert:
    return make_alert(article_id=f"a{n}", story_id=f"a{n}", title=f"alert {n}")


@pytest.fixture
async def dashboard(stack: Settings) -> AsyncIterator[tuple[str, Settings]]:
    await ensure_topics(stack)
    s = stack.model_copy(update={"redis_prefix": f"{stack.redis_prefix}-sse{uuid.uuid4().hex[:6]}"})
    runner = web.AppRunner(make_app(s))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", s
    await runner.cleanup()


async def _events(
    http: aiohttp.ClientSession, url: str, n: int, headers: dict[str, str] | None = None
) -> list[tuple[str, str, str]]:
    """The first n (event, id, data) triples of an SSE response."""
    out: list[tuple[str, str, str]] = []
    event = eid = data = ""
    async with http.get(url, headers=headers or {}) as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        async for raw in resp.content:
            line = raw.decode().rstrip("\r\n")
            if not line:
                if event:
                    out.append((event, eid, data))
                    if len(out) >= n:
                        return out
                event = eid = data = ""
                continue
            key, _, value = line.partition(": ")
            if key == "event":
                event = value
            elif key == "id":
                eid = value
            elif key == "data":
                data = value
    return out


async def test_history_then_resume_after_last_event_id(dashboard: tuple[str, Settings]) -> None:
    base, s = dashboard
    client = aioredis.Redis.from_url(s.redis)
    delivery = RedisDelivery(client, RedisKeys(s.redis_prefix), ttl_s=60, maxlen=1000)
    try:
        sent = [_alert(n) for n in range(5)]
        for a in sent[:3]:
            await delivery.deliver(a)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            first = await _events(http, f"{base}/events", 4)
            assert [e[0] for e in first] == ["alert", "alert", "alert", "ready"]
            assert [json.loads(e[2])["id"] for e in first[:3]] == [a.id for a in sent[:3]]
            seen_up_to = first[1][1]  # the page saw two, then lost its connection
            for a in sent[3:]:
                await delivery.deliver(a)
            resumed = await _events(http, f"{base}/events", 3, {"Last-Event-ID": seen_up_to})
            assert [json.loads(e[2])["id"] for e in resumed if e[0] == "alert"] == [
                a.id for a in sent[2:]
            ]
            bogus = await _events(http, f"{base}/events", 6, {"Last-Event-ID": "x') or 1"})
            assert len([e for e in bogus if e[0] == "alert"]) == 5  # treated as a fresh page
            async with http.get(base + "/") as page:
                assert page.headers["Content-Security-Policy"] == CSP
    finally:
        await client.aclose()


async def test_lag_is_read_from_the_stages_own_groups(stack: Settings) -> None:
    """The lag panel asks each stage's group under the configured topic prefix (it had
    `newswire-` written in: under any other prefix every record counted as behind)."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.structs import OffsetAndMetadata

    from services.common.topics import Topics
    from services.common.topology import group_id
    from services.dashboard.app import _sample

    s = stack.model_copy(update={"topic_prefix": f"nwlag{uuid.uuid4().hex[:6]}", "partitions": 1})
    await ensure_topics(s)
    raw = Topics.from_settings(s).raw
    producer = AIOKafkaProducer(bootstrap_servers=s.bootstrap)
    await producer.start()
    try:
        for n in range(3):
            await producer.send_and_wait(raw, f"r{n}".encode())
    finally:
        await producer.stop()
    group = AIOKafkaConsumer(
        bootstrap_servers=s.bootstrap, group_id=group_id(s, "enrichment"), enable_auto_commit=False
    )
    await group.start()
    try:
        group.assign([TopicPartition(raw, 0)])
        await group.commit({TopicPartition(raw, 0): OffsetAndMetadata(2, "")})  # one behind
    finally:
        await group.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=s.bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=s.bootstrap, enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        totals, lag = await _sample(s, admin, consumer)
    finally:
        await consumer.stop()
        await admin.close()
    assert totals["raw"] == 3
    assert lag["enrichment"] == 1
