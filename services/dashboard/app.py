"""The dashboard web service: static page, SSE alerts from the Redis stream, article text, stats.

Alerts come from the capped Redis stream, not from pub/sub: a fresh page gets the recent history and
a reconnecting EventSource sends Last-Event-ID, so a reload or a dropped connection loses nothing.
One reader per process fans the live stream out to the open pages (fanout.py); with a token set,
every route but the login page, /health and static files needs a session or a bearer token (auth.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler
from aiohttp_sse import EventSourceResponse, sse_response
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from services.common.kafka import stop_quietly, topic_partitions
from services.common.redisconn import make_redis
from services.common.settings import PROJECT_ROOT, Settings
from services.common.tasks import stop_tasks
from services.common.topics import RedisKeys, Topics
from services.common.topology import group_id, inputs
from services.dashboard import auth
from services.dashboard.core import (
    article_snapshot,
    group_lag,
    load_centroids,
    rates,
    story_summary,
    stream_event,
)
from services.dashboard.fanout import Entry, Fanout, Listener, entry_order
from services.delivery.atom import (
    ALL,
    CONTENT_TYPE,
    EPOCH,
    authorised,
    etag,
    feed_path,
    last_modified,
    not_modified,
    recent,
    render_feed,
)
from services.delivery.subscriptions import SubscriptionStore

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
GAZETTEER = PROJECT_ROOT / "services" / "enrichment" / "data" / "countries.csv"
HISTORY = 200
# The stages whose lag the page shows, each with the topic it reads (from the topology).
STAGES = {name: inputs(name)[0] for name in ("enrichment", "tagging", "alerts")}

SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)
REDIS: web.AppKey[aioredis.Redis] = web.AppKey("redis", aioredis.Redis)
STATS: web.AppKey[dict[str, Any]] = web.AppKey("stats", dict)
FANOUT: web.AppKey[Fanout] = web.AppKey("fanout", Fanout)
SESSION_KEY: web.AppKey[bytes | None] = web.AppKey("session_key", bytes)
ATTEMPTS: web.AppKey[auth.LoginAttempts] = web.AppKey("attempts", auth.LoginAttempts)
# who is logged in (None with no token configured), and the session's nonce (its CSRF token's)
USER: web.RequestKey[str | None] = web.RequestKey("user", str)
NONCE: web.RequestKey[str | None] = web.RequestKey("nonce", str)
READ_BLOCK_MS = 2000  # the reader's XREAD block: well under make_redis's 10 s socket timeout
SEND_TIMEOUT_S = 10.0  # a client that takes longer to accept one event is gone
GONE_CHECK_S = 1.0  # how soon an idle stream notices that its client closed
PAGE_RETRY_MS = 100  # reconnect delay the browser is told between catch-up pages
PUBLIC = ("/login", "/health")  # and /static/; the feeds check their own tokens
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class InsecureDashboard(ValueError):
    """The dashboard would serve every alert, unauthenticated, beyond this machine."""


_ENTRY_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
_STORY_ID = re.compile(r"^[0-9a-zA-Z_-]{1,64}$")


async def index(request: web.Request) -> web.FileResponse:
    """The page; its CSP allows only this origin's script, so alert text can never run as code."""
    return web.FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)


async def events(request: web.Request) -> web.StreamResponse:
    """SSE: the last HISTORY alerts (or at most dashboard_catchup_max after Last-Event-ID: when
    more are waiting, the response ends with a `page` event and the browser's reconnect fetches
    the next page), then live alerts from the process's one stream reader."""
    s = request.app[SETTINGS]
    listener = request.app[FANOUT].join()
    if listener is None:
        return web.json_response(
            {"error": "too many open alert streams; retry later"},
            status=503,
            headers={"Retry-After": "5"},
        )
    try:
        return await _stream(request, s, listener)
    finally:
        request.app[FANOUT].leave(listener)


async def _stream(request: web.Request, s: Settings, listener: Listener) -> web.StreamResponse:
    async with sse_response(
        request, ping_interval=s.dashboard_sse_keepalive_s, send_timeout=SEND_TIMEOUT_S
    ) as resp:
        # the client went away, or stalled past SEND_TIMEOUT_S (and was aborted)
        with contextlib.suppress(ConnectionResetError, TimeoutError):
            await _send_stream(request, s, listener, resp)
    return resp


async def _send_stream(
    request: web.Request, s: Settings, listener: Listener, resp: EventSourceResponse
) -> None:
    client = request.app[REDIS]
    stream = RedisKeys(s.redis_prefix).stream
    last = request.headers.get("Last-Event-ID") or request.query.get("after")
    backlog: Any
    if last and _ENTRY_ID.match(last):
        cap = s.dashboard_catchup_max
        backlog = await client.xrange(stream, min=f"({last}", count=cap + 1)
        more = len(backlog) > cap
        backlog = backlog[:cap]
    else:
        last = None  # none, or not a stream entry id: start from the recent history
        recent: Any = await client.xrevrange(stream, count=HISTORY)
        backlog, more = list(reversed(recent)), False
    for eid, fields in backlog:
        sid, data = stream_event(eid, fields)
        await resp.send(data, id=sid, event="alert")
        last = sid
    if more:  # the reconnect (Last-Event-ID = the last id sent) asks for the next page
        await resp.send(json.dumps({"after": last}), event="page", retry=PAGE_RETRY_MS)
        return
    await resp.send(json.dumps({"history": len(backlog)}), event="ready")
    seen = entry_order(last) if last else (-1, -1)
    while resp.is_connected():
        if listener.dropped.is_set():
            reason = f"more than {s.dashboard_sse_queue} alerts behind"
            await resp.send(json.dumps({"reason": reason}), event="dropped")
            return
        try:
            sid, data = await asyncio.wait_for(listener.queue.get(), GONE_CHECK_S)
        except TimeoutError:
            if request.transport is None or request.transport.is_closing():
                return  # the page went away: free its place under the cap now, not at a ping
            continue  # idle: the ping task keeps the stream open
        if entry_order(sid) > seen:  # the history read may already have sent it
            await resp.send(data, id=sid, event="alert")
            seen = entry_order(sid)


def _api_token(s: Settings) -> str | None:
    return s.api_token.get_secret_value() if s.api_token else None


def _origins(request: web.Request) -> set[str]:
    """This server's origins: as the request reached it, and the configured public URL."""
    return {
        f"{request.scheme}://{request.host}".lower(),
        auth.origin_of(request.app[SETTINGS].public_dashboard),
    }


def _who(request: web.Request, key: bytes) -> tuple[str, str | None] | None:
    """(user, session nonce) from the session cookie, or (user, None) from a bearer token."""
    session = auth.open_session(key, request.cookies.get(auth.SESSION_COOKIE), time.time())
    if session is not None:
        return session
    user = auth.authenticate(
        _api_token(request.app[SETTINGS]), auth.bearer(request.headers.get("Authorization"))
    )
    return (user, None) if user else None


def _unauthorised(request: web.Request) -> web.StreamResponse:
    if request.path == "/" and request.method in SAFE_METHODS:
        raise web.HTTPSeeOther("/login")
    return web.json_response(
        {"error": "log in at /login, or send Authorization: Bearer <token>"},
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="newswire"'},
    )


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every route but the login page, /health and static files needs a session or a bearer
    token; a state-changing request on a session also needs its CSRF token and our Origin."""
    key = request.app[SESSION_KEY]
    path = request.path
    if key is None or path in PUBLIC or path.startswith(("/static/", "/feeds/")):
        return await handler(request)
    who = _who(request, key)
    if who is None:
        return _unauthorised(request)
    request[USER], request[NONCE] = who
    nonce = request[NONCE]
    if request.method not in SAFE_METHODS and nonce is not None:
        token = request.headers.get("X-CSRF-Token")
        if not auth.same_origin(request.headers.get("Origin"), _origins(request)) or not (
            auth.csrf_ok(key, nonce, token)
        ):
            return web.json_response({"error": "missing or wrong CSRF token"}, status=403)
    return await handler(request)


def _login_page(error: str = "") -> web.Response:
    page = (STATIC / "login.html").read_text(encoding="utf-8")
    if error:  # a fixed message of ours, never request text
        page = page.replace('<p id="error" hidden></p>', f'<p id="error">{error}</p>')
    return web.Response(
        text=page,
        content_type="text/html",
        status=401 if error else 200,
        headers=PAGE_HEADERS,
    )


async def login_form(request: web.Request) -> web.Response:
    if request.app[SESSION_KEY] is None:
        raise web.HTTPSeeOther("/")  # no token configured: nothing to log in to
    return _login_page()


async def login(request: web.Request) -> web.Response:
    """POST /login (token=...): a signed session cookie, then the dashboard."""
    key = request.app[SESSION_KEY]
    s = request.app[SETTINGS]
    if key is None:
        raise web.HTTPSeeOther("/")  # no token configured: nothing to log in to
    if not auth.same_origin(request.headers.get("Origin"), _origins(request)):
        return web.json_response({"error": "cross-site login refused"}, status=403)
    address, now = request.remote or "", time.time()
    if wait := request.app[ATTEMPTS].wait_s(address, now):
        return web.json_response(
            {"error": "too many failed logins; wait"},
            status=429,
            headers={"Retry-After": str(int(wait) + 1)},
        )
    form = await request.post()
    presented = form.get("token")
    user = auth.authenticate(_api_token(s), presented if isinstance(presented, str) else None)
    if user is None:
        request.app[ATTEMPTS].failed(address, now)
        return _login_page("Wrong token.")
    cookie = auth.issue_session(
        key, user, secrets.token_urlsafe(16), time.time(), s.dashboard_session_ttl_s
    )
    resp = web.HTTPSeeOther("/")
    secure = s.dashboard_cookie_secure
    if secure is None:
        secure = request.secure or s.public_dashboard.startswith("https://")
    resp.set_cookie(
        auth.SESSION_COOKIE,
        cookie,
        max_age=s.dashboard_session_ttl_s,
        path="/",
        httponly=True,
        samesite="Lax",  # Lax, not Strict: links to a card from chat and e-mail keep the session
        secure=secure,
    )
    raise resp


async def logout(request: web.Request) -> web.Response:
    """POST /logout (the guard checked its CSRF token): the cookie is cleared."""
    resp = web.HTTPSeeOther("/login")
    resp.del_cookie(auth.SESSION_COOKIE, path="/")
    raise resp


async def session(request: web.Request) -> web.Response:
    """Who is logged in and the session's CSRF token (for the page's logout button)."""
    key = request.app[SESSION_KEY]
    nonce = request.get(NONCE)
    return web.json_response(
        {
            "user": request.get(USER),
            "login": key is not None,
            "csrf": auth.csrf_token(key, nonce) if key is not None and nonce else None,
        },
        headers={"Cache-Control": "no-store"},
    )


async def article(request: web.Request) -> web.Response:
    s = request.app[SETTINGS]
    raw = await request.app[REDIS].get(
        RedisKeys(s.redis_prefix).dashboard_article(request.match_info["id"])
    )
    if raw is None:
        return web.json_response({"error": "article text not (yet) known"}, status=404)
    return web.Response(body=raw, content_type="application/json")


async def stories(request: web.Request) -> web.Response:
    """The records of the stories asked for (?id=...&id=..., at most 200): articles, severity
    history, rules, place; null for a story no longer open."""
    s = request.app[SETTINGS]
    ids = [i for i in request.query.getall("id", []) if _STORY_ID.match(i)][:200]
    if not ids:
        return web.json_response({})
    keys = [RedisKeys(s.redis_prefix).story(i) for i in ids]
    records: Any = await request.app[REDIS].mget(keys)
    return web.json_response({i: story_summary(rec) for i, rec in zip(ids, records, strict=True)})


async def countries(request: web.Request) -> web.Response:
    return web.json_response(load_centroids(GAZETTEER))


async def stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATS])


async def feed(request: web.Request) -> web.Response:
    """An Atom feed of all alerts or of one named subscription, with ETag / Last-Modified (304)."""
    s = request.app[SETTINGS]
    client = request.app[REDIS]
    name = request.match_info.get("name", ALL)
    token = _api_token(s)
    key = request.app[SESSION_KEY]
    logged_in = key is not None and _who(request, key) is not None
    if not logged_in and not authorised(
        token, name, request.headers.get("Authorization"), request.query.get("token")
    ):
        return web.json_response(
            {"error": "missing or wrong token (Authorization: Bearer, or the feed URL's ?token=)"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="newswire"'},
        )
    keys = RedisKeys(s.redis_prefix)
    sub = None
    if name != ALL:
        sub = await SubscriptionStore(client, keys).get(name)
        if sub is None:
            return web.json_response({"error": f"no subscription named {name!r}"}, status=404)
    entries = await recent(client, keys, sub)
    base = s.public_dashboard
    empty = sub.created_at if sub is not None else EPOCH
    body = render_feed(
        entries,
        feed=name,
        title=f"newswire: {name}" if sub is not None else "newswire: all alerts",
        self_url=base + feed_path(name),
        dashboard=base,
        empty_updated=empty,
    )
    headers = {
        "ETag": etag(body),
        "Last-Modified": last_modified(entries, empty),
        "Cache-Control": "private, no-cache",
    }
    if not_modified(request.headers, headers["ETag"], headers["Last-Modified"]):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, headers={**headers, "Content-Type": CONTENT_TYPE})


class AccessLogger(AbstractAccessLogger):
    """Access log without query strings: a feed URL's ?token= never reaches a log file."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %s %.3fs",
            request.remote,
            request.method,
            request.path,
            response.status,
            time,
        )


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _keep_articles(s: Settings, client: aioredis.Redis) -> None:
    """Remember the text of tagged articles for the detail view (its own consumer group)."""
    keys = RedisKeys(s.redis_prefix)
    consumer = AIOKafkaConsumer(
        Topics.from_settings(s).tagged,
        bootstrap_servers=s.bootstrap,
        group_id=group_id(s, "dashboard"),
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=1000, max_records=500)
            async with client.pipeline(transaction=False) as pipe:
                for records in batch.values():
                    for r in records:
                        try:
                            snap = article_snapshot(json.loads(r.value))
                        except (ValueError, TypeError, AttributeError):
                            continue
                        if snap.get("id"):
                            pipe.set(
                                keys.dashboard_article(str(snap["id"])),
                                json.dumps(snap),
                                ex=s.alert_dedupe_ttl_s,
                            )
                await pipe.execute()
    finally:
        await stop_quietly(consumer)


async def _sample(s: Settings, admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer) -> Any:
    t = Topics.from_settings(s)
    names = {"raw": t.raw, "enriched": t.enriched, "tagged": t.tagged, "alerts": t.alerts}
    found = await topic_partitions(consumer, list(names.values()))
    tps = {key: found[name] for key, name in names.items()}
    end = await consumer.end_offsets([tp for v in tps.values() for tp in v])
    totals = {key: sum(end[tp] for tp in v) for key, v in tps.items()}
    lag = {}
    for stage, source in STAGES.items():
        committed = await admin.list_consumer_group_offsets(group_id(s, stage))
        lag[stage] = group_lag(
            {tp: o.offset for tp, o in committed.items() if o.offset >= 0},
            {tp: end[tp] for tp in tps[source]},
        )
    return totals, lag


async def _keep_stats(s: Settings, app: web.Application, every_s: float = 2.0) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=s.bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=s.bootstrap, enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    previous: dict[str, int] = {}
    then = time.monotonic()
    try:
        while True:
            try:
                totals, lag = await _sample(s, admin, consumer)
                now = time.monotonic()
                app[STATS].update(
                    totals=totals,
                    per_s=rates(previous, totals, now - then) if previous else {},
                    lag=lag,
                    at=time.time(),
                )
                previous, then = totals, now
            except Exception as exc:
                log.warning("dashboard stats: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(every_s)
    finally:
        await stop_quietly(consumer)
        await admin.close()


async def _read_after(client: aioredis.Redis, stream: str, cursor: str) -> list[Entry]:
    got: Any = await client.xread({stream: cursor}, block=READ_BLOCK_MS, count=500)
    return [stream_event(eid, fields) for _, entries in got for eid, fields in entries]


async def _stream_end(client: aioredis.Redis, stream: str) -> str:
    last: Any = await client.xrevrange(stream, count=1)
    return stream_event(*last[0])[0] if last else "0-0"


def check_bind(settings: Settings) -> None:
    """Refuse (InsecureDashboard) to serve beyond loopback without a token."""
    if not _api_token(settings) and not auth.is_loopback(settings.http_host):
        raise InsecureDashboard(
            f"refusing to serve the dashboard on {settings.http_host!r} without a token: set "
            "NEWSWIRE_API_TOKEN (the login and bearer token), or bind to 127.0.0.1"
        )


def make_app(settings: Settings) -> web.Application:
    """The dashboard; refuses (InsecureDashboard) to serve beyond loopback without a token."""
    check_bind(settings)
    token = _api_token(settings)
    app = web.Application(middlewares=[guard])
    app[SETTINGS] = settings
    app[STATS] = {"totals": {}, "per_s": {}, "lag": {}, "at": None}
    secret = settings.dashboard_session_secret
    app[SESSION_KEY] = auth.session_key(secret.get_secret_value() if secret else None, token)
    app[ATTEMPTS] = auth.LoginAttempts()
    app[FANOUT] = Fanout(settings.dashboard_sse_max_clients, settings.dashboard_sse_queue)
    app.router.add_get("/", index)
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/api/session", session)
    app.router.add_get("/events", events)
    app.router.add_get("/api/articles/{id}", article)
    app.router.add_get("/api/countries", countries)
    app.router.add_get("/api/stories", stories)
    app.router.add_get("/api/stats", stats)
    app.router.add_get("/health", health)
    app.router.add_get("/feeds/all.atom", feed)
    app.router.add_get("/feeds/subscriptions/{name}.atom", feed)
    app.router.add_static("/static", STATIC)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        app[REDIS] = make_redis(settings)  # short commands only: the API, history reads
        reader = make_redis(settings, max_connections=1)  # the one blocking stream read
        stream = RedisKeys(settings.redis_prefix).stream
        tasks = [
            asyncio.create_task(_keep_articles(settings, app[REDIS])),
            asyncio.create_task(_keep_stats(settings, app)),
            asyncio.create_task(
                app[FANOUT].run(
                    lambda: _stream_end(reader, stream),
                    lambda cursor: _read_after(reader, stream, cursor),
                )
            ),
        ]
        yield
        await stop_tasks(tasks)
        await reader.aclose()
        await app[REDIS].aclose()

    app.cleanup_ctx.append(lifecycle)
    return app
