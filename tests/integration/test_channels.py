"""Alerts where people read them, on the real stack with local receivers (no network):

- Slack, Teams, Telegram and Discord receivers on 127.0.0.1 that check each platform's documented
  shape and answer 429 with that platform's way of saying `retry_after` before accepting;
- a real SMTP server (aiosmtpd) with STARTTLS (a certificate made for the test) and AUTH;
- the dashboard's Atom feeds over HTTP with a token and conditional GET;
- `newswire subscriptions add ... / test`.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import json
import ssl
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from email import policy
from pathlib import Path
from typing import Any

import aiohttp
import feedparser
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner
from pydantic import SecretStr

from schemas import Alert, Subscription
from services.cli import main
from services.common.kafka import ensure_topics
from services.common.retrying import Backoff
from services.common.settings import Settings
from services.common.topics import RedisKeys
from services.dashboard.app import make_app as make_dashboard
from services.delivery.atom import feed_token
from services.delivery.config import SmtpConfig
from services.delivery.dispatch import Config, Deliverer, Pacer, dispatch
from services.delivery.registry import target
from services.delivery.retry import outbound_client
from services.delivery.sink import RedisDelivery
from services.delivery.subscriptions import SubscriptionStore
from services.delivery.webhooks import subscriber_key
from tests.conftest import free_port, settings_env
from tests.factories import make_alert
from tests.integration.dispatching import LOOPBACK, group_ready
from tests.unit.delivery import platforms

pytestmark = pytest.mark.integration
BOT_TOKEN = "123456:AAH-test-bot-token"
SMTP_USER, SMTP_PASSWORD = "newswire", "smtp-pa55word"
FAST = Backoff(base_s=0.05, cap_s=0.2)


# ---- chat receivers --------------------------------------------------------------------------
@dataclass
class Platform:
    """A local stand-in for one platform: validates, rate-limits the first call, records."""

    name: str
    validate: Callable[[Any], list[str]]
    limited: Callable[[], web.Response]  # the platform's 429
    ok: Callable[[], web.Response]
    limit_first: int = 1
    got: list[dict[str, Any]] = field(default_factory=list)
    at: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    event: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.at.append(time.monotonic())
        self.paths.append(request.path)
        if not request.content_type.startswith("application/json"):
            self.problems.append(f"content type {request.content_type}")
            return web.Response(status=415)
        body = await request.json()
        errs = self.validate(body)
        if errs:
            self.problems += errs
            return web.json_response({"ok": False, "description": "; ".join(errs)}, status=400)
        if len(self.at) <= self.limit_first:
            return self.limited()
        self.got.append(body)
        self.event.set()
        return self.ok()


def _platforms() -> dict[str, Platform]:
    return {
        "slack": Platform(
            "slack",
            platforms.slack,
            lambda: web.Response(status=429, text="rate_limited", headers={"Retry-After": "1"}),
            lambda: web.Response(text="ok"),
        ),
        "teams": Platform(
            "teams",
            platforms.teams,
            lambda: web.Response(status=429, headers={"Retry-After": "1"}),
            lambda: web.Response(text="1"),
        ),
        "telegram": Platform(
            "telegram",
            platforms.telegram,
            lambda: web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
                status=429,
            ),
            lambda: web.json_response({"ok": True, "result": {"message_id": 1}}),
        ),
        "discord": Platform(
            "discord",
            platforms.discord,
            lambda: web.json_response(
                {"message": "You are being rate limited.", "retry_after": 0.6, "global": False},
                status=429,
            ),
            lambda: web.Response(status=204),
        ),
    }


@contextlib.asynccontextmanager
async def receivers() -> AsyncIterator[tuple[str, dict[str, Platform]]]:
    plats = _platforms()
    app = web.Application()
    app.router.add_post("/slack/services/T0/B0/slack-secret", plats["slack"].handle)
    app.router.add_post("/teams/webhookb2/teams-secret", plats["teams"].handle)
    app.router.add_post(f"/bot{BOT_TOKEN}/sendMessage", plats["telegram"].handle)
    app.router.add_post("/discord/api/webhooks/1/discord-secret", plats["discord"].handle)
    runner = web.AppRunner(app, access_log=None)  # the stand-in's own log would show its URL
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", plats
    finally:
        await runner.cleanup()


def _chat_sub(base: str, name: str = "desk", *, skip: str = "") -> Subscription:
    targets = [
        target(f"slack:{base}/slack/services/T0/B0/slack-secret"),
        target(f"teams:{base}/teams/webhookb2/teams-secret"),
        target(f"discord:{base}/discord/api/webhooks/1/discord-secret"),
        target("kind=telegram,chat=-1001234567890,token_env=DESK_BOT_TOKEN"),
    ]
    return Subscription(
        name=name, min_severity="high", targets=[t for t in targets if t.kind != skip]
    )


@pytest.fixture
async def redis_client(stack: Settings) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(stack.redis)
    yield client
    await client.aclose()


async def test_dispatcher_posts_one_valid_message_per_alert_to_each_chat(
    redis_client: aioredis.Redis,
) -> None:
    keys = RedisKeys(f"ch{uuid.uuid4().hex[:6]}")
    store = SubscriptionStore(redis_client, keys)
    delivery = RedisDelivery(redis_client, keys, ttl_s=60, maxlen=1000)
    async with receivers() as (base, plats):
        await store.add(_chat_sub(base))
        await store.add(_chat_sub(base, name="desk-copy"))  # the same targets: sent once
        cfg = Config(dashboard="http://dash.example", telegram_api=base, outbound_allow=LOOPBACK)
        task = asyncio.create_task(
            dispatch(
                redis_client,
                keys,
                cfg,
                block_ms=200,
                env={"DESK_BOT_TOKEN": BOT_TOKEN},
                backoff=FAST,
            )
        )
        try:
            await group_ready(
                redis_client, keys
            )  # the group starts at "$": only alerts from then on
            low = make_alert(severity="low")
            high = make_alert(url="https://example.org/a", places=["Kharkiv"])
            await delivery.deliver(low)
            await delivery.deliver(high)
            await asyncio.wait_for(
                asyncio.gather(*(p.event.wait() for p in plats.values())), timeout=30
            )
            await asyncio.sleep(0.5)  # nothing more arrives
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    for p in plats.values():
        assert p.problems == [], (p.name, p.problems)
        assert len(p.got) == 1, p.name  # one message: the high alert, once for two subscriptions
        assert len(p.at) == 2  # a 429 first
        asked = {"discord": 0.6}.get(p.name, 1.0)
        assert p.at[1] - p.at[0] >= asked - 0.05, (p.name, "retry_after not respected")
    assert "dash.example/#alert=" + high.id in json.dumps(plats["slack"].got[0])
    assert high.id in plats["telegram"].got[0]["text"]
    assert plats["telegram"].got[0]["chat_id"] == -1001234567890
    assert await redis_client.xlen(keys.dead_deliveries) == 0


async def test_too_long_retry_after_and_missing_token_dead_letter_without_secrets(
    redis_client: aioredis.Redis,
) -> None:
    keys = RedisKeys(f"ch{uuid.uuid4().hex[:6]}")
    config = Config(dashboard="http://d", telegram_api="http://set-below", outbound_allow=LOOPBACK)
    async with receivers() as (base, plats), outbound_client(config) as http:
        plats["discord"].limit_first = 100
        plats["discord"].limited = lambda: web.json_response(
            {"message": "You are being rate limited.", "retry_after": 3600.0, "global": True},
            status=429,
        )
        plats["slack"].limit_first = 0
        sub = _chat_sub(base, skip="teams")
        d = Deliverer(
            redis_client,
            keys,
            http,
            replace(config, telegram_api=base),
            env={},  # DESK_BOT_TOKEN not set
            attempts=3,
            backoff=FAST,
        )
        outcomes = {o.kind: o for o in await d.alert([sub], make_alert())}
    assert outcomes["slack"].delivered
    assert not outcomes["discord"].delivered and outcomes["discord"].attempts == 1
    assert "exceeds" in outcomes["discord"].errors[-1]
    assert not outcomes["telegram"].delivered and "DESK_BOT_TOKEN" in outcomes["telegram"].errors[0]
    dead = [json.loads(f[b"record"]) for _, f in await redis_client.xrange(keys.dead_deliveries)]
    assert sorted(r["kind"] for r in dead) == ["discord", "telegram"]
    text = json.dumps(dead)
    assert "discord-secret" not in text and BOT_TOKEN not in text
    assert plats["telegram"].at == []  # never called without a token


async def test_pacer_spaces_messages_to_one_target() -> None:
    pacer = Pacer()
    t0 = time.monotonic()
    for _ in range(3):
        await pacer.wait("u", 0.2)
    assert time.monotonic() - t0 >= 0.38


# ---- e-mail ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.logins: list[tuple[str, bool]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = data.login.decode() == SMTP_USER and data.password.decode() == SMTP_PASSWORD
        self.logins.append((data.login.decode(), ok))
        return AuthResult(success=ok, handled=False)  # False: aiosmtpd answers 535 itself


@pytest.fixture
def smtp_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int, Path]]:
    cert, key = certificate
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    inbox = Inbox()
    port = free_port()
    ctl = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=ctx,
        require_starttls=True,
        auth_required=True,
        authenticator=inbox.authenticate,
    )
    ctl.start()
    try:
        yield inbox, port, cert
    finally:
        ctl.stop()


async def test_email_critical_at_once_the_rest_in_one_digest_over_starttls_and_auth(
    redis_client: aioredis.Redis, smtp_server: tuple[Inbox, int, Path]
) -> None:
    inbox, port, cert = smtp_server
    keys = RedisKeys(f"ml{uuid.uuid4().hex[:6]}")
    smtp = SmtpConfig(
        host="127.0.0.1",
        port=port,
        user=SMTP_USER,
        password=SMTP_PASSWORD,
        sender="alerts@newswire.example",
        ca_file=cert,
    )
    sub = Subscription(name="inbox", targets=[target("kind=email,to=ops@example.org,digest_s=900")])
    async with outbound_client(Config()) as http:
        d = Deliverer(redis_client, keys, http, Config(dashboard="http://d", smtp=smtp))
        crit = make_alert(severity="critical", title="Capital under attack")
        highs = [make_alert(title=f"Depot hit {i}") for i in range(3)]
        out = await d.alert([sub], crit)
        assert [o.delivered for o in out] == [True]
        for a in highs:
            assert (await d.alert([sub], a))[0].queued
        assert await d.flush_digests([sub]) == []  # not due yet
        assert len(inbox.messages) == 1
        sent = await d.flush_digests([sub], now=time.time() + 901)
        assert [o.delivered for o in sent] == [True]
        assert await d.flush_digests([sub], now=time.time() + 2000) == []  # drained
        bad = Deliverer(
            redis_client,
            keys,
            http,
            Config(
                smtp=SmtpConfig(
                    host="127.0.0.1",
                    port=port,
                    user=SMTP_USER,
                    password="wrong-pw",
                    ca_file=cert,
                    timeout_s=5,
                )
            ),
        )
        failed = await bad.alert([sub], make_alert(severity="critical"))
    assert not failed[0].delivered and failed[0].attempts == 1  # 535: permanent
    assert inbox.logins[-1] == (SMTP_USER, False)
    (to1, first), (to2, digest) = inbox.messages
    assert to1 == to2 == ["ops@example.org"]
    assert first["Subject"].startswith("[CRITICAL]") and "Capital under attack" in first["Subject"]
    assert digest["Subject"] == "newswire digest (inbox): 3 alerts — 3 high"
    for m in (first, digest):
        assert m.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in m.iter_parts()] == ["text/plain", "text/html"]
        assert m["Message-ID"] and m["Date"] and m["List-Unsubscribe"].startswith("<mailto:")
    body = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert all(f"Depot hit {i}" in body for i in range(3))
    dead = [json.loads(f[b"record"]) for _, f in await redis_client.xrange(keys.dead_deliveries)]
    assert [r["kind"] for r in dead] == ["email"]
    assert "wrong-pw" not in json.dumps(dead) and "535" in dead[0]["errors"][0]


# ---- Atom feeds over HTTP --------------------------------------------------------------------
async def test_atom_feeds_with_token_and_conditional_get(stack: Settings) -> None:
    await ensure_topics(stack)
    s = stack.model_copy(
        update={
            "redis_prefix": f"{stack.redis_prefix}-atom{uuid.uuid4().hex[:6]}",
            "api_token": SecretStr("feed-api-token"),
            "dashboard_url": "http://news.example",
        }
    )
    keys = RedisKeys(s.redis_prefix)
    client = aioredis.Redis.from_url(s.redis)
    await SubscriptionStore(client, keys).add(
        Subscription(name="ua-high", min_severity="high", atom=True)
    )
    delivery = RedisDelivery(client, keys, ttl_s=60, maxlen=1000)
    alerts: list[Alert] = [
        make_alert(severity="low"),
        make_alert(places=["Kharkiv"], url="https://example.org/1"),
        make_alert(severity="critical"),
    ]
    for a in alerts:
        await delivery.deliver(a)
    runner = web.AppRunner(make_dashboard(s))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    tok = feed_token("feed-api-token", "ua-high")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/feeds/subscriptions/ua-high.atom") as r:
                assert r.status == 401
            async with http.get(f"{base}/feeds/all.atom?token={tok}") as r:
                assert r.status == 401  # a feed's token opens that feed only
            async with http.get(
                f"{base}/feeds/subscriptions/nope.atom",
                headers={"Authorization": "Bearer feed-api-token"},
            ) as r:
                assert r.status == 404
            async with http.get(f"{base}/feeds/subscriptions/ua-high.atom?token={tok}") as r:
                assert r.status == 200
                assert r.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
                tag, lm = r.headers["ETag"], r.headers["Last-Modified"]
                sub_feed = feedparser.parse(await r.read())
            async with http.get(
                f"{base}/feeds/all.atom", headers={"Authorization": "Bearer feed-api-token"}
            ) as r:
                assert r.status == 200
                all_feed = feedparser.parse(await r.read())
            q = f"{base}/feeds/subscriptions/ua-high.atom?token={tok}"
            async with http.get(q, headers={"If-None-Match": tag}) as r:
                assert r.status == 304 and await r.read() == b""
            async with http.get(q, headers={"If-Modified-Since": lm}) as r:
                assert r.status == 304
            await delivery.deliver(make_alert(severity="high", title="newer"))
            await asyncio.sleep(0.01)
            async with http.get(q, headers={"If-None-Match": tag}) as r:
                assert r.status == 200 and r.headers["ETag"] != tag
                newer = feedparser.parse(await r.read())
    finally:
        # the dashboard's background tasks once held its clean-up for ever (a lost cancellation,
        # services/common/tasks.py): it must end
        async with asyncio.timeout(20):
            await runner.cleanup()
        await client.aclose()
    assert not sub_feed.bozo and not all_feed.bozo
    assert [e.id for e in sub_feed.entries] == [
        f"urn:newswire:alert:{a.id}" for a in reversed(alerts[1:])
    ]
    assert len(all_feed.entries) == 3
    assert sub_feed.feed.links[0].href == "http://news.example/feeds/subscriptions/ua-high.atom"
    assert newer.entries[0].title.startswith("[HIGH] newer")
    assert [e.id for e in newer.entries[1:]] == [e.id for e in sub_feed.entries]  # stable ids


# ---- the command line ------------------------------------------------------------------------
async def test_cli_adds_chat_and_email_targets_and_sends_a_test_message(
    stack: Settings, smtp_server: tuple[Inbox, int, Path]
) -> None:
    inbox, port, cert = smtp_server
    s = stack.model_copy(update={"redis_prefix": f"{stack.redis_prefix}-cli{uuid.uuid4().hex[:6]}"})
    from services.common import settings as settings_mod

    async with receivers() as (base, plats):
        for p in plats.values():
            p.limit_first = 0
        env = {
            **settings_env(s),
            "NEWSWIRE_TELEGRAM_API_URL": base,
            "DESK_BOT": BOT_TOKEN,
            "NEWSWIRE_SMTP_HOST": "127.0.0.1",
            "NEWSWIRE_SMTP_PORT": str(port),
            "NEWSWIRE_SMTP_USER": SMTP_USER,
            "NEWSWIRE_SMTP_PASSWORD": SMTP_PASSWORD,
            "NEWSWIRE_SMTP_CA_FILE": str(cert),
            "NEWSWIRE_SUBSCRIPTION_KEY": "test-subscription-key",
            "NEWSWIRE_WEBHOOK_SECRET": "test-master",
            "NEWSWIRE_OUTBOUND_ALLOW": json.dumps(LOOPBACK),  # the receivers are on loopback
        }
        runner = CliRunner()
        settings_mod.get_settings.cache_clear()
        try:
            args = [
                "subscriptions", "add", "desk", "--severity", "high", "--atom",
                "--slack", f"{base}/slack/services/T0/B0/slack-secret",
                "--teams", f"{base}/teams/webhookb2/teams-secret",
                "--target", f"discord:{base}/discord/api/webhooks/1/discord-secret",
                "--telegram", "@desk_alerts", "--token-env", "DESK_BOT",
                "--email", "ops@example.org", "--digest", "15m",
            ]  # fmt: skip
            add = await asyncio.to_thread(runner.invoke, main, args, env=env)
            assert add.exit_code == 0, add.output
            assert "atom feed: http://127.0.0.1:8081/feeds/subscriptions/desk.atom" in add.output
            listed = await asyncio.to_thread(
                runner.invoke, main, ["subscriptions", "list"], env=env
            )
            assert "email:ops@example.org (digest 15m" in listed.output
            assert "slack-secret" not in listed.output + add.output
            listed_json = await asyncio.to_thread(
                runner.invoke, main, ["subscriptions", "list", "--json"], env=env
            )
            assert "slack-secret" not in listed_json.output
            shown = json.loads(listed_json.output)["targets"]
            assert any(t.startswith("slack:127.0.0.1#") for t in shown), shown
            client = aioredis.Redis.from_url(s.redis)
            try:  # at rest: sealed (issue 27: chat webhook URLs were stored in plain text)
                stored = await client.hget(RedisKeys(s.redis_prefix).subscriptions, "desk")
            finally:
                await client.aclose()
            assert stored and b"slack-secret" not in stored and b"teams-secret" not in stored
            assert b"desk_alerts" not in stored and b'"sealed"' in stored
            hook = await asyncio.to_thread(
                runner.invoke,
                main,
                ["subscriptions", "add", "hooked", "--target", "webhook:http://127.0.0.1:9/h"],
                env=env,
            )
            assert subscriber_key("test-master", "hooked") in hook.output
            assert subscriber_key("test-master", "desk") not in add.output  # no webhook there
            sent = await asyncio.to_thread(
                runner.invoke, main, ["subscriptions", "test", "desk"], env=env
            )
            bad = await asyncio.to_thread(
                runner.invoke, main, ["subscriptions", "add", "x", "--token-env", "V"], env=env
            )
            unknown = await asyncio.to_thread(
                runner.invoke,
                main,
                ["subscriptions", "add", "y", "--target", "kind=slack,url=https://h/x,colour=red"],
                env=env,
            )
        finally:
            settings_mod.get_settings.cache_clear()
    assert sent.exit_code == 0, sent.output
    assert sent.output.count(": sent") == 5, sent.output
    assert BOT_TOKEN not in sent.output and SMTP_PASSWORD not in sent.output
    for p in plats.values():
        assert p.problems == [] and len(p.got) == 1, (p.name, p.problems)
    assert plats["telegram"].got[0]["chat_id"] == "@desk_alerts"
    assert len(inbox.messages) == 1 and inbox.messages[0][1]["Subject"].startswith(
        "[HIGH (was MEDIUM)]"
    )
    assert bad.exit_code != 0 and "--token-env goes with --telegram" in bad.output
    assert unknown.exit_code != 0 and "unknown field(s) colour" in unknown.output
