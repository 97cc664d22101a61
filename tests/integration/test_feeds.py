"""The feed poller against a local HTTP server, real Redis and Kafka: conditional GET, seen entries
across restarts, backoff and operational alerts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from prometheus_client import generate_latest

from schemas import RawArticle
from schemas.base import utcnow
from services.common.kafka import ensure_topics
from services.common.outbound import Outbound
from services.common.settings import Settings
from services.common.topics import Topics
from services.ingest.feeds.health import FAILURES_TO_ALARM, FeedConfig, summary
from services.ingest.feeds.poller import FeedPoller
from services.ingest.feeds.store import FeedStore, feed_key
from services.ingest.publisher import Publisher
from tests.conftest import free_port, read_topic
from tests.loopwatch import loop_holds

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).parents[1] / "fixtures" / "feeds"
EXTRA_ITEM = (
    "<item><title>Drone attack on Odesa port</title><link>https://example.org/news/3</link>"
    "<description>Drones hit the port.</description></item>"
)


class FeedServer:
    """Serves fixtures with an ETag, answers 304 to a matching If-None-Match, logs requests."""

    def __init__(self) -> None:
        self.docs: dict[str, bytes] = {}
        self.status: dict[str, int] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.port = free_port()

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.requests.append((name, request.headers.get("If-None-Match")))
        if name in self.status:
            return web.Response(status=self.status[name])
        doc = self.docs[name]
        etag = f'"{hash(doc) & 0xFFFFFFFF:x}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=doc, headers={"ETag": etag, "Content-Type": "application/rss+xml"})

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    srv = FeedServer()
    app = web.Application()
    app.router.add_get("/{name}", srv.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", srv.port).start()
    yield srv
    await runner.cleanup()


@pytest.fixture
async def env(stack: Settings) -> AsyncIterator[dict[str, Any]]:
    await ensure_topics(stack)
    client = aioredis.Redis.from_url(stack.redis)
    store = FeedStore(client, f"{stack.redis_prefix}-feeds{uuid.uuid4().hex[:6]}")
    publisher = Publisher(stack)
    await publisher.start()
    # The feed server is on loopback: the outbound guard lets it through only by the allow-list.
    local = stack.model_copy(update={"outbound_allow": ["127.0.0.1/32"]})
    async with Outbound(local) as http:
        yield {"store": store, "publisher": publisher, "http": http, "client": client}
    await publisher.stop()
    await client.aclose()


async def _raw_from(stack: Settings, source: str) -> list[RawArticle]:
    out: list[RawArticle] = []
    for r in await read_topic(stack, Topics.from_settings(stack).raw):
        try:  # the session's raw topic also holds other tests' poison records
            a = RawArticle.model_validate_json(r.value or b"")
        except ValueError:
            continue
        if a.source == source:
            out.append(a)
    return out


def _cfg(url: str, **kw: Any) -> FeedConfig:
    return FeedConfig(url=url, interval_s=60, added_at=utcnow(), **kw)


async def test_poll_publishes_new_entries_once_and_uses_etag(
    stack: Settings, server: FeedServer, env: dict[str, Any]
) -> None:
    doc = (FIXTURES / "rss2.xml").read_bytes()
    server.docs["news.xml"] = doc
    url = server.url("news.xml")
    cfg = _cfg(url)
    await env["store"].add(cfg)
    poller = FeedPoller(env["store"], env["publisher"], env["http"])

    first = await poller.poll(cfg)
    assert (first.status, first.new) == ("new", 2)
    second = await poller.poll(cfg)
    assert second.status == "not-modified"
    assert server.requests[1][1] is not None, "second poll must send If-None-Match"

    server.docs["news.xml"] = doc.replace(b"</channel>", EXTRA_ITEM.encode() + b"</channel>")
    third = await poller.poll(cfg)
    assert (third.status, third.new) == ("new", 1)

    # A restarted poller with its validators lost still publishes nothing twice (seen set in Redis).
    st = await env["store"].state(url)
    await env["store"].save_state(url, st.model_copy(update={"etag": None}))
    restarted = FeedPoller(env["store"], env["publisher"], env["http"])
    again = await restarted.poll(cfg)
    assert (again.status, again.new) == ("new", 0)

    published = await _raw_from(stack, url)
    assert sorted(a.title for a in published) == sorted(
        [
            "Missile strike hits fuel depot near Kharkiv",
            "Talks resume in Geneva",
            "Drone attack on Odesa port",
        ]
    )
    state = await env["store"].state(url)
    assert state.items_total == 3 and state.polls == 4 and state.not_modified == 1
    assert state.consecutive_failures == 0 and state.last_success is not None


async def test_failing_feed_backs_off_and_raises_one_ops_alert(
    server: FeedServer, env: dict[str, Any]
) -> None:
    server.status["down.xml"] = 503
    server.docs["bad.xml"] = (FIXTURES / "garbage.txt").read_bytes()
    store: FeedStore = env["store"]
    poller = FeedPoller(store, env["publisher"], env["http"])
    for name in ("down.xml", "bad.xml"):
        cfg = _cfg(server.url(name))
        await store.add(cfg)
        waits = []
        for _ in range(FAILURES_TO_ALARM + 1):
            result = await poller.poll(cfg)
            assert result.status == "error"
            st = await store.state(cfg.url)
            assert st.next_poll and st.last_poll
            waits.append((st.next_poll - st.last_poll).total_seconds())
        assert waits == sorted(waits) and waits[0] == 120
        assert st.consecutive_failures == FAILURES_TO_ALARM + 1 and st.alarm == "failing"
    events = [json.loads(f[b"event"]) for _, f in await env["client"].xrange(store.ops_stream)]
    assert [(e["kind"], e["feed"]) for e in events] == [
        ("feed-failing", feed_key(server.url("down.xml"))),
        ("feed-failing", feed_key(server.url("bad.xml"))),
    ]
    assert "HTTP 503" in events[0]["message"] and "unparseable" in events[1]["message"]

    # Recovery closes the incident with a second event.
    server.status.pop("down.xml")
    server.docs["down.xml"] = (FIXTURES / "atom.xml").read_bytes()
    assert (await poller.poll(_cfg(server.url("down.xml")))).new == 1
    events = [json.loads(f[b"event"]) for _, f in await env["client"].xrange(store.ops_stream)]
    assert events[-1]["kind"] == "feed-recovered"


async def test_feed_that_stops_producing_is_stale(server: FeedServer, env: dict[str, Any]) -> None:
    server.docs["quiet.xml"] = (FIXTURES / "rss091.xml").read_bytes()
    store: FeedStore = env["store"]
    cfg = _cfg(server.url("quiet.xml"), stale_after_s=3600).model_copy(
        update={"added_at": utcnow() - timedelta(days=3)}
    )
    await store.add(cfg)
    poller = FeedPoller(store, env["publisher"], env["http"])
    assert (await poller.poll(cfg)).new == 1
    st = await store.state(cfg.url)
    await store.save_state(
        cfg.url,
        st.model_copy(update={"last_new_item": utcnow() - timedelta(hours=2), "etag": None}),
    )
    assert (await poller.poll(cfg)).new == 0
    events = [json.loads(f[b"event"]) for _, f in await env["client"].xrange(store.ops_stream)]
    assert [e["kind"] for e in events] == ["feed-stale"]
    assert (await store.state(cfg.url)).alarm == "stale"


def _big_feed(items: int, body: int = 400) -> bytes:
    entries = "".join(
        f"<item><title>Item {i} of the long feed</title><link>https://example.org/long/{i}</link>"
        f"<description>{'Words of the story. ' * (body // 20)}</description></item>"
        for i in range(items)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Long</title>{entries}</channel></rss>'.encode()


async def test_a_feed_sent_in_many_chunks_is_read_whole(
    stack: Settings, env: dict[str, Any]
) -> None:
    """The poller read one network chunk: a 534 KB feed of 1,000 items gave 31 and counted as
    a success."""
    doc = _big_feed(1000)
    assert len(doc) > 500_000

    async def chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await resp.prepare(request)
        for i in range(0, len(doc), 8192):
            await resp.write(doc[i : i + 8192])
            await asyncio.sleep(0.001)
        await resp.write_eof()
        return resp

    async with _served({"/long.xml": chunked}) as base:
        cfg = _cfg(f"{base}/long.xml")
        await env["store"].add(cfg)
        result = await FeedPoller(env["store"], env["publisher"], env["http"]).poll(cfg)
    assert (result.status, result.new) == ("new", 1000)


async def test_a_feed_over_the_cap_fails_clearly(env: dict[str, Any]) -> None:
    doc = _big_feed(300)

    async def whole(request: web.Request) -> web.Response:
        return web.Response(body=doc, content_type="application/rss+xml")

    async with _served({"/big.xml": whole}) as base:
        cfg = _cfg(f"{base}/big.xml")
        await env["store"].add(cfg)
        poller = FeedPoller(env["store"], env["publisher"], env["http"], max_bytes=64 * 1024)
        result = await poller.poll(cfg)
    assert result.status == "error" and result.new == 0
    assert "feed larger than 65536 bytes" in (result.error or "")


async def test_a_redirect_to_the_metadata_address_is_refused(env: dict[str, Any]) -> None:
    """The poller followed a redirect to 169.254.169.254 and stored what it returned."""

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/iam/")

    async with _served({"/moved.xml": moved}) as base:
        cfg = _cfg(f"{base}/moved.xml")
        await env["store"].add(cfg)
        result = await FeedPoller(env["store"], env["publisher"], env["http"]).poll(cfg)
    assert result.status == "error" and "Blocked" in (result.error or "")
    assert "cloud metadata" in (result.error or "")


async def test_parsing_a_big_feed_does_not_block_the_event_loop(env: dict[str, Any]) -> None:
    """A 10 MB feed held the ingest event loop for 7.9 s: parsing now runs in a thread."""
    # 5.4 MB in 60 long entries: a ~1 s stall with parsing on the loop; few articles, so
    # publishing them (on the loop by design) does not stand in the way of the measurement.
    doc = _big_feed(60, body=90_000)

    async def whole(request: web.Request) -> web.Response:
        return web.Response(body=doc, content_type="application/rss+xml")

    loop = asyncio.get_running_loop()
    async with _served({"/heavy.xml": whole}) as base:
        cfg = _cfg(f"{base}/heavy.xml")
        await env["store"].add(cfg)
        async with loop_holds(loop.time, 0.01) as gaps:
            started = loop.time()
            result = await FeedPoller(env["store"], env["publisher"], env["http"]).poll(cfg)
            took = loop.time() - started
    assert result.new == 60
    assert max(gaps) < 0.3, f"event loop stalled {max(gaps):.2f}s during a {took:.2f}s poll"


async def test_feed_metrics_are_labelled_by_id_not_url(
    server: FeedServer, env: dict[str, Any]
) -> None:
    """Feed URLs carry API keys; /metrics is public: labels are the feed's id."""
    server.docs["keyed.xml"] = (FIXTURES / "rss2.xml").read_bytes()
    url = server.url("keyed.xml") + "?api_key=SECRET-KEY-123"
    cfg = _cfg(url)
    await env["store"].add(cfg)
    await FeedPoller(env["store"], env["publisher"], env["http"]).poll(cfg)
    exposition = generate_latest().decode()
    assert f'feed="{feed_key(url)}"' in exposition
    assert "SECRET-KEY-123" not in exposition


async def test_a_feed_url_key_is_in_no_ops_event_log_line_or_status(
    server: FeedServer, env: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Feed URLs carry API keys: ops events and logs showed them whole."""
    server.status["keyed-down.xml"] = 503
    url = server.url("keyed-down.xml") + "?api_key=SECRET-KEY-456"
    cfg = _cfg(url)
    store: FeedStore = env["store"]
    await store.add(cfg)
    poller = FeedPoller(store, env["publisher"], env["http"])
    with caplog.at_level(logging.DEBUG):
        for _ in range(FAILURES_TO_ALARM):
            assert (await poller.poll(cfg)).status == "error"
    [event] = [json.loads(f[b"event"]) for _, f in await env["client"].xrange(store.ops_stream)]
    assert event["kind"] == "feed-failing" and event["feed"] == feed_key(url)
    assert event["url"] == server.url("keyed-down.xml") + "?api_key=***"
    row = summary(cfg, await store.state(url), utcnow())
    # Our log lines (the fixture's own feed server logs its requests as aiohttp.access).
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("services."))
    shown = json.dumps(event) + ours + json.dumps(row)
    assert feed_key(url) in ours and "HTTP 503" in shown
    assert "SECRET-KEY-456" not in shown


@contextlib.asynccontextmanager
async def _served(routes: dict[str, Any]) -> AsyncIterator[str]:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
