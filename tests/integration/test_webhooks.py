"""Webhook delivery against a local receiver: signature, retries with backoff, dead letter."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web

from schemas import Alert, Subscription, Target
from services.common.retrying import Backoff
from services.common.settings import Settings
from services.common.topics import RedisKeys
from services.delivery.dispatch import Config, dispatch
from services.delivery.retry import redis_dead_letter
from services.delivery.sink import RedisDelivery
from services.delivery.subscriptions import SubscriptionStore
from services.delivery.webhooks import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    deliver_webhook,
    subscriber_key,
    verify,
)
from tests.conftest import free_port
from tests.factories import make_alert
from tests.integration.dispatching import LOOPBACK, dispatching, group_ready, until

pytestmark = pytest.mark.integration
SECRET = "test-secret"
FAST = Backoff(base_s=0.05, cap_s=0.2)


def _alert() -> Alert:
    return make_alert()


class Receiver:
    """A webhook receiver of the subscriptions `subs`: it holds each one's key (and so knows which
    subscription a message was signed for)."""

    def __init__(self, fail_first: int, subs: tuple[str, ...] = ("direct",)) -> None:
        self.keys = {subscriber_key(SECRET, s): s for s in subs}
        self.fail_first = fail_first
        self.calls: list[dict[str, object]] = []
        self.port = free_port()
        self.called = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.called.set()
        body = await request.read()
        h = request.headers
        sub = next(
            (
                s
                for k, s in self.keys.items()
                if verify(
                    k, h[ID_HEADER], h[TIMESTAMP_HEADER], body, h[SIGNATURE_HEADER], time.time()
                )
            ),
            None,
        )
        ok = sub is not None
        self.calls.append({"valid": ok, "sub": sub, "id": h[ID_HEADER], "body": json.loads(body)})
        if len(self.calls) <= self.fail_first:
            return web.Response(status=503)
        return web.Response(status=204 if ok else 401)


async def _serve(rcv: Receiver) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/hook", rcv.handle)
    runner = web.AppRunner(app, access_log=None)  # its log line would show the URL
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", rcv.port).start()
    return runner


@pytest.fixture
async def redis_client(stack: Settings) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(stack.redis)
    yield client
    await client.aclose()


async def test_signed_post_is_retried_until_accepted(redis_client: aioredis.Redis) -> None:
    rcv = Receiver(fail_first=2)
    runner = await _serve(rcv)
    dead = f"wh-dead-{uuid.uuid4().hex[:6]}"
    try:
        alert = _alert()
        result = await deliver_webhook(
            alert,
            f"http://127.0.0.1:{rcv.port}/hook",
            SECRET,
            allow=LOOPBACK,
            attempts=4,
            backoff=FAST,
            dead_letter=redis_dead_letter(redis_client, dead),
        )
    finally:
        await runner.cleanup()
    assert result.delivered and result.attempts == 3 and result.status == 204
    assert result.errors == ["HTTP 503", "HTTP 503"]
    assert all(c["valid"] and c["id"] == alert.id for c in rcv.calls)
    assert rcv.calls[-1]["body"]["rule_id"] == "missile-strike"  # type: ignore[index]
    assert await redis_client.xlen(dead) == 0


async def test_last_failure_writes_a_dead_letter(redis_client: aioredis.Redis) -> None:
    dead = f"wh-dead-{uuid.uuid4().hex[:6]}"
    rcv = Receiver(fail_first=100)
    runner = await _serve(rcv)
    try:
        alert = _alert()
        result = await deliver_webhook(
            alert,
            f"http://127.0.0.1:{rcv.port}/hook",
            SECRET,
            allow=LOOPBACK,
            attempts=3,
            backoff=FAST,
            dead_letter=redis_dead_letter(redis_client, dead),
        )
        closed = await deliver_webhook(  # nobody listening: connection errors, same outcome
            alert,
            f"http://127.0.0.1:{free_port()}/hook",
            SECRET,
            allow=LOOPBACK,
            attempts=2,
            backoff=FAST,
            dead_letter=redis_dead_letter(redis_client, dead),
        )
    finally:
        await runner.cleanup()
    assert not result.delivered and result.attempts == 3 and len(rcv.calls) == 3
    assert not closed.delivered and closed.status is None
    records = [json.loads(f[b"record"]) for _, f in await redis_client.xrange(dead)]
    assert [(r["alert_id"], r["attempts"]) for r in records] == [(alert.id, 3), (alert.id, 2)]
    assert records[0]["errors"] == ["HTTP 503"] * 3
    assert records[0]["alert"]["title"] == "Missile strike hits depot"


async def test_client_error_is_not_retried() -> None:
    rcv = Receiver(fail_first=0)
    runner = await _serve(rcv)
    try:
        result = await deliver_webhook(
            _alert(),
            f"http://127.0.0.1:{rcv.port}/hook",
            "wrong-secret",
            allow=LOOPBACK,
            attempts=5,
            backoff=FAST,
        )
    finally:
        await runner.cleanup()
    assert not result.delivered and result.attempts == 1 and result.status == 401


async def test_dispatcher_posts_to_matching_subscription_webhooks(
    redis_client: aioredis.Redis,
) -> None:
    keys = RedisKeys(f"wh{uuid.uuid4().hex[:6]}")
    store = SubscriptionStore(redis_client, keys)
    rcv = Receiver(fail_first=0, subs=("ops-high", "ru-only"))
    runner = await _serve(rcv)
    url = f"http://127.0.0.1:{rcv.port}/hook"
    hook = [Target(kind="webhook", fields={"url": url})]
    await store.add(Subscription(name="ops-high", min_severity="high", targets=hook))
    await store.add(Subscription(name="ru-only", countries=["RU"], targets=hook))
    await store.add(Subscription(name="no-hook"))
    delivery = RedisDelivery(redis_client, keys, ttl_s=60, maxlen=1000)
    task = asyncio.create_task(
        dispatch(
            redis_client,
            keys,
            Config(webhook_secret=SECRET, outbound_allow=LOOPBACK),
            block_ms=200,
            backoff=FAST,
        )
    )
    try:
        await group_ready(redis_client, keys)  # the group starts at "$": only alerts from then on
        high, low = _alert(), _alert().model_copy(update={"severity": "low"})
        await delivery.deliver(low)  # stream order: low is handled before high
        await delivery.deliver(high)
        await asyncio.wait_for(rcv.called.wait(), timeout=20)
        for _ in range(100):  # acknowledged after the delivery finished
            if (await redis_client.xpending(keys.stream, "webhooks"))["pending"] == 0:
                break
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await runner.cleanup()
    assert [(c["id"], c["sub"]) for c in rcv.calls] == [(high.id, "ops-high")]  # not ru-only
    assert rcv.calls[0]["valid"]
    assert (await redis_client.xpending(keys.stream, "webhooks"))["pending"] == 0


async def test_a_loopback_webhook_is_refused_unless_the_allow_list_names_it(
    redis_client: aioredis.Redis,
) -> None:
    """Issue 27: a subscriber's webhook URL reached any internal address (loopback, the cloud
    metadata service). The outbound guard refuses it at send time: dead-lettered as a blocked
    address, not retried, the receiver gets nothing; `outbound_allow` lets exactly it through."""
    rcv = Receiver(fail_first=0, subs=("local",))
    runner = await _serve(rcv)
    hook = [Target(kind="webhook", fields={"url": f"http://127.0.0.1:{rcv.port}/hook"})]
    dead: list[list[dict[str, Any]]] = []  # per run: without, then with the allow-list
    try:
        for allow in ((), LOOPBACK):
            keys = RedisKeys(f"wh{uuid.uuid4().hex[:6]}")
            await SubscriptionStore(redis_client, keys).add(
                Subscription(name="local", targets=hook)
            )
            config = Config(webhook_secret=SECRET, outbound_allow=allow)
            async with dispatching(redis_client, keys, config, block_ms=100, backoff=FAST):
                await group_ready(redis_client, keys)
                await RedisDelivery(redis_client, keys, ttl_s=60, maxlen=1000).deliver(_alert())

                async def done(keys: RedisKeys = keys) -> bool:
                    return bool(rcv.calls) or await redis_client.xlen(keys.dead_deliveries) > 0

                await until(done, wait_s=20)
            records = await redis_client.xrange(keys.dead_deliveries)
            dead.append([json.loads(f[b"record"]) for _, f in records])
            if not allow:
                assert rcv.calls == []  # refused before any connection
        by_name = await deliver_webhook(  # a name is checked on what it resolves to
            _alert(), f"http://localhost:{rcv.port}/hook", SECRET, attempts=3, backoff=FAST
        )
    finally:
        await runner.cleanup()
    (refused,) = dead[0]
    assert refused["kind"] == "webhook" and refused["attempts"] == 1
    assert refused["errors"][0].startswith("blocked address: 127.0.0.1 is loopback")
    assert "NEWSWIRE_OUTBOUND_ALLOW" in refused["errors"][0]
    assert dead[1] == []
    assert not by_name.delivered and by_name.attempts == 1
    assert by_name.errors[0].startswith("blocked address: localhost resolves to ")
    assert [(c["sub"], c["valid"]) for c in rcv.calls] == [("local", True)]


async def test_a_stored_record_of_another_version_stops_no_alert(
    redis_client: aioredis.Redis,
) -> None:
    """Issue 27: one subscription stored with a field this version does not know made every
    delivery raise (the dispatcher stopped); now it is read without the field, a record that
    cannot be read at all is skipped, and the others' alerts go out."""
    keys = RedisKeys(f"wh{uuid.uuid4().hex[:6]}")
    rcv = Receiver(fail_first=0, subs=("newer", "older", "newest"))
    runner = await _serve(rcv)
    url = f"http://127.0.0.1:{rcv.port}/hook"
    await redis_client.hset(
        keys.subscriptions,
        mapping={  # raw records, as other versions (old and new) wrote them
            "newer": json.dumps({"name": "newer", "webhook_url": url, "signing_key": "k1"}),
            "damaged": '{"name": "damaged", "min_severity": 7',
            "older": json.dumps({"name": "older", "webhook_url": url, "digest_s": 900}),
            "newest": json.dumps(
                {
                    "name": "newest",
                    "targets": [
                        {"kind": "pager", "fields": {"number": "555"}},  # a channel to come
                        {"kind": "webhook", "fields": {"url": url, "signing": "v2"}},
                    ],
                }
            ),
        },
    )
    delivery = RedisDelivery(redis_client, keys, ttl_s=60, maxlen=1000)
    alert = _alert()

    async def three() -> bool:
        return len(rcv.calls) >= 3

    try:
        async with dispatching(
            redis_client, keys, Config(webhook_secret=SECRET, outbound_allow=LOOPBACK), block_ms=200
        ):
            await group_ready(redis_client, keys)
            await delivery.deliver(alert)
            await until(three, 20)
            await asyncio.sleep(0.3)  # nothing more
    finally:
        await runner.cleanup()
    # the same URL thrice: one copy per subscription, each signed with that subscription's key
    assert sorted((c["id"], c["sub"]) for c in rcv.calls) == [
        (alert.id, s) for s in ("newer", "newest", "older")
    ]
    dead = [json.loads(f[b"record"]) for _, f in await redis_client.xrange(keys.dead_deliveries)]
    assert [(r["kind"], r["target"], r["attempts"]) for r in dead] == [("pager", "pager:newest", 0)]
    assert "no channel 'pager'" in dead[0]["errors"][0]


async def _serve_app(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def test_a_redirect_is_not_followed() -> None:
    """Issue 27: a 307 re-POSTed the signed body wherever it pointed (an internal host)."""
    hits: list[str] = []

    async def elsewhere(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(status=204)

    inner = web.Application()
    inner.router.add_post("/internal", elsewhere)
    inner_runner, inner_url = await _serve_app(inner)

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"{inner_url}/internal")

    outer = web.Application()
    outer.router.add_post("/hook", redirect)
    outer_runner, outer_url = await _serve_app(outer)
    try:
        result = await deliver_webhook(
            _alert(), f"{outer_url}/hook", SECRET, allow=LOOPBACK, attempts=3, backoff=FAST
        )
    finally:
        await outer_runner.cleanup()
        await inner_runner.cleanup()
    assert hits == []
    assert not result.delivered and result.attempts == 1 and result.status == 307


@pytest.mark.parametrize("status", [500, 429])
async def test_a_huge_error_body_is_read_only_up_to_the_cap(status: int) -> None:
    """Issue 27: an error response's whole body was read (+606 MB RSS on a 300 MB body)."""
    size, chunk = 64 * 1024 * 1024, b"x" * (1024 * 1024)
    sent = [0]

    async def huge(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=status, headers={"Content-Length": str(size)})
        await resp.prepare(request)
        with contextlib.suppress(ConnectionError):
            while sent[0] < size:
                await resp.write(chunk)
                sent[0] += len(chunk)
        return resp

    app = web.Application()
    app.router.add_post("/hook", huge)
    runner, url = await _serve_app(app)
    try:
        result = await deliver_webhook(_alert(), f"{url}/hook", SECRET, allow=LOOPBACK, attempts=1)
        await asyncio.sleep(0.2)  # the server notices the dropped connection
    finally:
        await runner.cleanup()
    assert not result.delivered and result.status == status
    assert sent[0] < size // 4, f"{sent[0]} of {size} bytes sent: the body was read"


class Timed:
    """A receiver that answers after `delay_s`, noting when each alert arrived."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.at: dict[str, float] = {}

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(self.delay_s)
        self.at[request.headers[ID_HEADER]] = time.monotonic()
        return web.Response(status=204)


async def test_one_slow_target_delays_only_itself(redis_client: aioredis.Redis) -> None:
    """Issue 27: one slow target held up every subscription's deliveries (~62 s per alert)."""
    keys = RedisKeys(f"wh{uuid.uuid4().hex[:6]}")
    slow, fast = Timed(3.0), Timed(0.0)
    app = web.Application()
    app.router.add_post("/slow", slow.handle)
    app.router.add_post("/fast", fast.handle)
    runner, url = await _serve_app(app)
    store = SubscriptionStore(redis_client, keys)
    for name in ("slow", "fast"):
        hook = [Target(kind="webhook", fields={"url": f"{url}/{name}"})]
        await store.add(Subscription(name=name, targets=hook))
    delivery = RedisDelivery(redis_client, keys, ttl_s=60, maxlen=1000)
    try:
        async with dispatching(
            redis_client, keys, Config(webhook_secret=SECRET, outbound_allow=LOOPBACK), block_ms=100
        ):
            await group_ready(redis_client, keys)
            first, second = make_alert(story_id="s1"), make_alert(story_id="s2", article_id="a2")
            await delivery.deliver(first)
            await asyncio.sleep(0.3)  # the slow target is busy with the first
            sent = time.monotonic()
            await delivery.deliver(second)

            async def arrived() -> bool:
                return second.id in fast.at

            await until(arrived)
    finally:
        await runner.cleanup()
    assert first.id in fast.at and second.id in fast.at
    assert fast.at[second.id] - sent < 1.5  # not behind the slow target's 3 s
    assert second.id not in slow.at  # still waiting its turn on its own lane


async def test_a_malformed_stream_entry_is_dead_lettered_not_crash_looped(
    redis_client: aioredis.Redis,
) -> None:
    """Issue 27: one malformed alert-stream entry raised in the dispatcher, and as it re-reads its
    pending entries first, every restart raised again. Now it is dead-lettered with the reason and
    acknowledged; the alerts around it are delivered."""
    keys = RedisKeys(f"wh{uuid.uuid4().hex[:6]}")
    rcv = Receiver(fail_first=0, subs=("all",))
    runner = await _serve(rcv)
    hook = [Target(kind="webhook", fields={"url": f"http://127.0.0.1:{rcv.port}/hook"})]
    await SubscriptionStore(redis_client, keys).add(Subscription(name="all", targets=hook))
    await redis_client.xgroup_create(keys.stream, "webhooks", id="0", mkstream=True)
    bad = await redis_client.xadd(keys.stream, {"alert": "{not json"})
    good = make_alert()
    await redis_client.xadd(keys.stream, {"alert": good.model_dump_json()})
    # read but never acknowledged: what a dispatcher that crashed on it left pending
    await redis_client.xreadgroup("webhooks", "dispatcher-1", {keys.stream: ">"})
    later = make_alert(story_id="s9")

    async def all_done() -> bool:
        pending = (await redis_client.xpending(keys.stream, "webhooks"))["pending"]
        return len(rcv.calls) == 2 and pending == 0

    try:
        async with dispatching(
            redis_client, keys, Config(webhook_secret=SECRET, outbound_allow=LOOPBACK), block_ms=100
        ):
            await asyncio.wait_for(rcv.called.wait(), timeout=20)
            await redis_client.xadd(keys.stream, {"alert": json.dumps({"id": "x", "severity": 3})})
            await redis_client.xadd(keys.stream, {"alert": later.model_dump_json()})
            await until(all_done)
    finally:
        await runner.cleanup()
    assert [c["id"] for c in rcv.calls] == [good.id, later.id]
    assert (await redis_client.xpending(keys.stream, "webhooks"))["pending"] == 0
    dead = [json.loads(f[b"record"]) for _, f in await redis_client.xrange(keys.dead_deliveries)]
    assert (dead[0]["kind"], dead[0]["entry_id"]) == ("stream", bad.decode())
    assert "invalid alert" in dead[0]["errors"][0] and dead[0]["alert"] == {"alert": "{not json"}
    assert len(dead) == 2 and "invalid alert" in dead[1]["errors"][0]


async def test_a_webhook_url_is_never_logged_nor_dead_lettered(
    redis_client: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 27: webhook URLs (a receiver's path or query may be its credential) were logged in
    full, and named the target of outcomes and dead letters."""
    dead = f"wh-dead-{uuid.uuid4().hex[:6]}"
    rcv = Receiver(fail_first=100)
    runner = await _serve(rcv)
    caplog.set_level(logging.INFO)
    try:
        for url in (
            f"http://127.0.0.1:{rcv.port}/hook?token=hook-cred-1",  # 503s, then a dead letter
            f"http://127.0.0.1:{free_port()}/hook/hook-cred-2",  # refused
        ):
            result = await deliver_webhook(
                _alert(),
                url,
                SECRET,
                allow=LOOPBACK,
                attempts=2,
                backoff=FAST,
                dead_letter=redis_dead_letter(redis_client, dead),
            )
            assert not result.delivered
    finally:
        await runner.cleanup()
    records = [f[b"record"].decode() for _, f in await redis_client.xrange(dead)]
    assert len(records) == 2 and "webhook:127.0.0.1#" in records[0]
    assert "retrying" in caplog.text and "failed" in caplog.text
    for text in (caplog.text, *records):
        assert "hook-cred" not in text and "/hook" not in text
