"""The dashboard's event stream on real Redis: history first, then live alerts, and a reconnect with
Last-Event-ID gets exactly what it missed (what makes "a reload loses nothing" true)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from pydantic import SecretStr

from schemas import Alert
from services.common.kafka import ensure_topics
from services.common.settings import Settings
from services.common.topics import RedisKeys
from services.dashboard.app import CSP, FANOUT, make_app
from services.delivery.sink import RedisDelivery
from tests.conftest import free_port
from tests.factories import make_alert

pytestmark = pytest.mark.integration


def _alert(n: int) -> Alert:
    return make_alert(article_id=f"a{n}", story_id=f"a{n}", title=f"alert {n}")


Serve = Callable[..., Awaitable[tuple[str, Settings, web.Application]]]


@pytest.fixture
async def serve(stack: Settings) -> AsyncIterator[Serve]:
    """Start dashboards on the stack, each with its own Redis prefix and the given settings."""
    await ensure_topics(stack)
    runners: list[web.AppRunner] = []

    async def start(**update: Any) -> tuple[str, Settings, web.Application]:
        prefix = f"{stack.redis_prefix}-sse{uuid.uuid4().hex[:6]}"
        s = stack.model_copy(update={"redis_prefix": prefix, **update})
        app = make_app(s)
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return f"http://127.0.0.1:{port}", s, app

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def dashboard(serve: Serve) -> tuple[str, Settings]:
    base, s, _ = await serve()
    return base, s


async def _events(
    http: aiohttp.ClientSession,
    url: str,
    n: int,
    headers: dict[str, str] | None = None,
    until: str = "",
) -> list[tuple[str, str, str]]:
    """The first n (event, id, data) triples of an SSE response (or up to an `until` event)."""
    out: list[tuple[str, str, str]] = []
    event = eid = data = ""
    async with http.get(url, headers=headers or {}) as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        async for raw in resp.content:
            line = raw.decode().rstrip("\r\n")
            if not line:
                if event:
                    out.append((event, eid, data))
                    if len(out) >= n or event == until:
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


TOKEN = "dashboard-test-token"
GUARDED = ["/events", "/api/articles/a1", "/api/countries", "/api/stories?id=a1", "/api/stats"]


async def test_every_read_route_needs_a_session_or_the_bearer_token(serve: Serve) -> None:
    """Issue 27: /events streamed every alert to anyone. Now: a login form taking the token, an
    HttpOnly SameSite session cookie, CSRF-checked logout, bearer tokens for API clients."""
    base, _, _ = await serve(api_token=SecretStr(TOKEN))
    jar = aiohttp.CookieJar(unsafe=True)  # keep cookies of an IP address host
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout, cookie_jar=jar) as http:
        for path in GUARDED:  # nobody: 401 (the SSE stream never starts)
            async with http.get(base + path) as r:
                assert r.status == 401, path
                assert r.headers["WWW-Authenticate"].startswith("Bearer")
        async with http.get(base + "/", allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"] == "/login"
        for path in ("/login", "/health", "/static/app.js"):
            async with http.get(base + path) as r:
                assert r.status == 200, path
        async with http.get(base + "/feeds/all.atom") as r:
            assert r.status == 401  # the feeds' own token check, as before
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        wrong = {"Authorization": "Bearer nope"}
        for path in GUARDED[1:]:
            async with http.get(base + path, headers=wrong) as r:
                assert r.status == 401, path
            async with http.get(base + path, headers=bearer) as r:
                assert r.status in (200, 404), path  # 404: article a1 not known
        assert [e[0] for e in await _events(http, f"{base}/events", 1, bearer)] == ["ready"]

        login = f"{base}/login"
        async with http.post(login, data={"token": "nope"}, allow_redirects=False) as r:
            assert r.status == 401 and "Wrong token." in await r.text()
        evil = {"Origin": "https://evil.example"}
        async with http.post(login, data={"token": TOKEN}, headers=evil) as r:
            assert r.status == 403  # login CSRF
        assert not list(jar)
        async with http.post(login, data={"token": TOKEN}, allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"] == "/"
            cookie = r.cookies["newswire_session"]
            assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
            assert not cookie["secure"]  # plain http, no setting: the browser would drop it
            assert int(cookie["max-age"]) == 12 * 3600
        for path in GUARDED[1:]:
            async with http.get(base + path) as r:
                assert r.status in (200, 404), path
        async with http.get(base + "/feeds/all.atom") as r:
            assert r.status == 200  # a logged-in reader opens the feeds too
        assert [e[0] for e in await _events(http, f"{base}/events", 1)] == ["ready"]
        async with http.get(base + "/api/session") as r:
            me = await r.json()
            assert me["user"] == "token" and me["login"] and me["csrf"]
        async with http.post(base + "/logout", allow_redirects=False) as r:
            assert r.status == 403  # no CSRF token
        csrf = {"X-CSRF-Token": me["csrf"]}
        async with http.post(base + "/logout", headers={**csrf, **evil}) as r:
            assert r.status == 403  # right token, foreign page
        async with http.post(base + "/logout", headers=csrf, allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"] == "/login"
        async with http.get(base + "/api/stats") as r:
            assert r.status == 401  # the cookie is gone
        for _ in range(9):  # ten wrong tokens a minute from one address, then it waits
            async with http.post(login, data={"token": "nope"}) as r:
                assert r.status == 401
        async with http.post(login, data={"token": TOKEN}, allow_redirects=False) as r:
            assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    tampered = {"newswire_session": cookie.value.replace(".", ".x", 1)}
    async with (
        aiohttp.ClientSession(timeout=timeout, cookies=tampered) as http,
        http.get(base + "/api/stats") as r,
    ):
        assert r.status == 401


async def test_the_session_cookie_is_secure_when_served_over_https(serve: Serve) -> None:
    base, _, _ = await serve(api_token=SecretStr(TOKEN), dashboard_url="https://desk.example")
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base}/login",
            data={"token": TOKEN},
            headers={"Origin": "https://desk.example"},  # the public origin is ours
            allow_redirects=False,
        ) as r,
    ):
        assert r.status == 303 and r.cookies["newswire_session"]["secure"]


async def _ready(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientResponse:
    """An open SSE response, read up to its `ready` event (the caller closes it)."""
    resp = await http.get(url)
    assert resp.status == 200, resp.status
    async for raw in resp.content:
        if raw.startswith(b"event: ready"):
            return resp
    raise AssertionError("the stream ended before ready")


async def _connections(client: aioredis.Redis) -> int:
    info: Any = await client.info("clients")
    return int(info["connected_clients"])


async def test_many_sse_clients_share_one_reader_and_the_api_stays_up(serve: Serve) -> None:
    """Issue 27: each SSE client held its own Redis connection. Now 120 open streams cost no
    Redis connection each, the API answers, one alert reaches all, and stream 121 gets 503."""
    n = 120
    base, s, _ = await serve(dashboard_sse_max_clients=n)
    client = aioredis.Redis.from_url(s.redis)
    delivery = RedisDelivery(client, RedisKeys(s.redis_prefix), ttl_s=60, maxlen=1000)
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            streams = [await _ready(http, f"{base}/events")]  # the app's clients are up
            before = await _connections(client)
            streams += await asyncio.gather(*(_ready(http, f"{base}/events") for _ in range(n - 1)))
            # the API's bounded pool (32, the history reads share it) and the one reader; the
            # old code held one connection per stream: +120
            assert await _connections(client) - before <= 32 + 1
            async with http.get(f"{base}/events") as r:
                assert r.status == 503 and r.headers["Retry-After"]
            for path in ("/api/stats", "/api/stories?id=a1", "/feeds/all.atom", "/health"):
                t0 = time.monotonic()
                async with http.get(base + path) as r:
                    assert r.status == 200, path
                assert time.monotonic() - t0 < 2.0, path
            alert = _alert(1)
            await delivery.deliver(alert)

            async def first_alert(resp: aiohttp.ClientResponse) -> str:
                event = b""
                async for raw in resp.content:
                    if raw.startswith(b"event: "):
                        event = raw.strip()
                    elif raw.startswith(b"data: ") and event == b"event: alert":
                        return str(json.loads(raw[6:])["id"])
                return ""

            got = await asyncio.wait_for(asyncio.gather(*(first_alert(r) for r in streams)), 30)
            assert got == [alert.id] * n
            for resp in streams[:-1]:
                resp.close()
            await streams[-1].release()
    finally:
        await client.aclose()


async def test_catch_up_after_last_event_id_is_paged(serve: Serve) -> None:
    """Issue 27: `Last-Event-ID: 0-0` returned every alert (10,000) in one response. Now at most
    dashboard_catchup_max, then a `page` event ends the response and the reconnect goes on."""
    base, s, _ = await serve(dashboard_catchup_max=10)
    client = aioredis.Redis.from_url(s.redis)
    delivery = RedisDelivery(client, RedisKeys(s.redis_prefix), ttl_s=60, maxlen=1000)
    try:
        sent = [_alert(n) for n in range(25)]
        for a in sent:
            await delivery.deliver(a)
        seen: list[str] = []
        pages: list[list[str]] = []
        last = "0-0"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            for _ in range(4):
                got = await _events(http, f"{base}/events", 100, {"Last-Event-ID": last}, "ready")
                pages.append([e[0] for e in got])
                alerts = [e for e in got if e[0] == "alert"]
                seen += [json.loads(e[2])["id"] for e in alerts]
                if pages[-1][-1] == "ready":
                    break
                assert json.loads(got[-1][2])["after"] == alerts[-1][1]
                last = alerts[-1][1]
        assert pages == [["alert"] * 10 + ["page"]] * 2 + [["alert"] * 5 + ["ready"]]
        assert seen == [a.id for a in sent]  # every alert once, in order
    finally:
        await client.aclose()


async def test_an_idle_stream_stays_open_past_the_old_five_seconds(serve: Serve) -> None:
    """Issue 27: every idle SSE stream aborted after 5 s. Now keep-alive comments flow and an
    alert after 7 s of silence still arrives on the same response."""
    base, s, _ = await serve(dashboard_sse_keepalive_s=1.0)
    client = aioredis.Redis.from_url(s.redis)
    delivery = RedisDelivery(client, RedisKeys(s.redis_prefix), ttl_s=60, maxlen=1000)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            resp = await _ready(http, f"{base}/events")
            pings = 0
            idle_until = time.monotonic() + 7.0
            while (left := idle_until - time.monotonic()) > 0:
                try:
                    raw = await asyncio.wait_for(resp.content.readline(), left)
                except TimeoutError:
                    break
                assert raw, "the stream ended while idle"
                pings += raw.startswith(b": ping")
            alert = _alert(7)
            await delivery.deliver(alert)
            got = await asyncio.wait_for(resp.content.readline(), 10)
            while got and not got.startswith(b"data: "):
                got = await asyncio.wait_for(resp.content.readline(), 10)
            assert got, "the stream ended while idle"
            assert json.loads(got[6:])["id"] == alert.id
            assert pings >= 4  # the keep-alive comments that keep proxies from closing it
            resp.close()
    finally:
        await client.aclose()


async def test_a_client_too_slow_for_its_queue_is_dropped_with_a_reason(serve: Serve) -> None:
    base, _, app = await serve(dashboard_sse_queue=2)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        resp = await _ready(http, f"{base}/events")
        fan = app[FANOUT]
        assert len(fan.listeners) == 1
        fan.publish([(f"{9_000_000_000_000 + i}-0", "{}") for i in range(3)])  # 3 > 2
        rest = (await asyncio.wait_for(resp.content.read(), 10)).decode()
        assert "event: dropped" in rest and "more than 2 alerts behind" in rest
        assert not fan.listeners and fan.dropped_total == 1
        resp.close()
