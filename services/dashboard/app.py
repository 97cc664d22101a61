"""The dashboard web service: static page, SSE alerts from the Redis stream, article text, stats.

Alerts come from the capped Redis stream, not from pub/sub: a fresh page gets the recent history and
a reconnecting EventSource sends Last-Event-ID, so a reload or a dropped connection loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp_sse import sse_response
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from services.common.kafka import stop_quietly, topic_partitions
from services.common.redisconn import make_subscriber_client
from services.common.settings import PROJECT_ROOT, Settings
from services.common.tasks import stop_tasks
from services.common.topics import RedisKeys, Topics
from services.common.topology import group_id, inputs
from services.dashboard.core import (
    article_snapshot,
    group_lag,
    load_centroids,
    rates,
    story_summary,
    stream_event,
)
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


CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'"
_ENTRY_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
_STORY_ID = re.compile(r"^[0-9a-zA-Z_-]{1,64}$")


async def index(request: web.Request) -> web.FileResponse:
    """The page; its CSP allows only this origin's script, so alert text can never run as code."""
    return web.FileResponse(
        STATIC / "index.html",
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": CSP},
    )


async def events(request: web.Request) -> web.StreamResponse:
    """SSE: the last HISTORY alerts (or those after Last-Event-ID), then new ones as they come."""
    s = request.app[SETTINGS]
    client = request.app[REDIS]
    stream = RedisKeys(s.redis_prefix).stream
    last = request.headers.get("Last-Event-ID") or request.query.get("after")
    if last and not _ENTRY_ID.match(last):
        last = None  # not a stream entry id: start from the recent history
    backlog: Any
    got: Any
    async with sse_response(request) as resp:
        if last:
            backlog = await client.xrange(stream, min=f"({last}", count=10_000)
        else:
            recent: Any = await client.xrevrange(stream, count=HISTORY)
            backlog = list(reversed(recent))
        for eid, fields in backlog:
            sid, data = stream_event(eid, fields)
            await resp.send(data, id=sid, event="alert")
            last = sid
        await resp.send(json.dumps({"history": len(backlog)}), event="ready")
        cursor = last or "$"
        while resp.is_connected():
            got = await client.xread({stream: cursor}, block=5000, count=500)
            for _, entries in got:
                for eid, fields in entries:
                    sid, data = stream_event(eid, fields)
                    await resp.send(data, id=sid, event="alert")
                    cursor = sid
    return resp


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
    token = s.api_token.get_secret_value() if s.api_token else None
    if not authorised(
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


def make_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    app[STATS] = {"totals": {}, "per_s": {}, "lag": {}, "at": None}
    app.router.add_get("/", index)
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
        app[REDIS] = make_subscriber_client(settings)  # one blocking read per open page
        tasks = [
            asyncio.create_task(_keep_articles(settings, app[REDIS])),
            asyncio.create_task(_keep_stats(settings, app)),
        ]
        yield
        await stop_tasks(tasks)
        await app[REDIS].aclose()

    app.cleanup_ctx.append(lifecycle)
    return app
