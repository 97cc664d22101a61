"""Liveness, readiness, Prometheus metrics and the heartbeat every service runs.

`/livez` answers while the event loop runs (a restart would not help a broker outage, so Kafka and
Redis are not part of it); `/readyz` answers 200 only when Kafka answers metadata and Redis answers
PING; `/metrics` is Prometheus text; `/status` is this process's `ServiceState`. The heartbeat writes
the same state to a Redis hash with a TTL, so `newswire status` sees every replica on every machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.common import metrics
from services.common.probes import kafka_ready, redis_ready
from services.common.settings import Settings
from services.common.tasks import stop_tasks
from services.common.topics import RedisKeys, Topics
from services.common.topology import BY_NAME

log = logging.getLogger(__name__)

HEARTBEAT_TTL_FACTOR = 3  # a service missing three heartbeats disappears from `newswire status`


def metrics_port(service: str, settings: Settings) -> int:
    if settings.metrics_port is not None:
        return settings.metrics_port
    spec = BY_NAME.get(service)
    return spec.metrics_port if spec is not None else 0


class Readiness:
    """Checks Kafka and Redis, at most once per `ttl_s`, so a probe storm does not become a load."""

    def __init__(self, settings: Settings, ttl_s: float = 5.0) -> None:
        self.settings = settings
        self.ttl_s = ttl_s
        self._at = 0.0
        self._result: dict[str, bool] = {}
        self._lock = asyncio.Lock()

    async def check(self) -> dict[str, bool]:
        async with self._lock:
            if time.monotonic() - self._at > self.ttl_s or not self._result:
                kafka, redis = await asyncio.gather(
                    kafka_ready(self.settings), redis_ready(self.settings)
                )
                self._result = {"kafka": kafka, "redis": redis}
                self._at = time.monotonic()
            return dict(self._result)


def add_routes(app: web.Application, readiness: Readiness) -> None:
    """The four endpoints, for the ingest app or a worker's own small server."""

    async def livez(_: web.Request) -> web.Response:
        return web.json_response({"status": "alive", "service": metrics.STATE.service})

    async def readyz(_: web.Request) -> web.Response:
        checks = await readiness.check()
        ok = all(checks.values())
        return web.json_response(
            {"status": "ready" if ok else "not ready", "checks": checks}, status=200 if ok else 503
        )

    async def prometheus(_: web.Request) -> web.Response:
        resp = web.Response(body=generate_latest())
        resp.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return resp

    async def status(_: web.Request) -> web.Response:
        return web.json_response(metrics.STATE.as_fields())

    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", prometheus)
    app.router.add_get("/status", status)


async def publish_heartbeat(client: aioredis.Redis, settings: Settings) -> None:
    state = metrics.STATE
    key = RedisKeys(settings.redis_prefix).status(state.service, state.instance)
    fields: dict[Any, Any] = {**state.as_fields(), "seen_at": str(time.time())}
    ttl = max(1, int(settings.status_interval_s * HEARTBEAT_TTL_FACTOR))
    await client.hset(key, mapping=fields)  # type: ignore[misc,unused-ignore]
    await client.expire(key, ttl)
    metrics.HEARTBEAT.set_to_current_time()


async def read_heartbeats(client: aioredis.Redis, prefix: str) -> list[dict[str, str]]:
    rows = []
    async for key in client.scan_iter(match=RedisKeys(prefix).status_pattern, count=500):
        raw = await client.hgetall(key)  # type: ignore[misc,unused-ignore]
        if raw:
            rows.append({_text(k): _text(v) for k, v in raw.items()})
    return sorted(rows, key=lambda r: (r.get("service", ""), r.get("instance", "")))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Ops:
    """The per-process side: health server (workers), heartbeat and lag loop (every service)."""

    def __init__(
        self,
        service: str,
        settings: Settings,
        lag: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.lag = lag
        self.readiness = Readiness(settings)
        self.runner: web.AppRunner | None = None
        self._redis: aioredis.Redis | None = None
        self._task: asyncio.Task[None] | None = None
        metrics.STATE.service = service

    async def serve(self) -> int:
        """Start the health/metrics server; returns the bound port (0 in settings = any free port)."""
        app = web.Application()
        add_routes(app, self.readiness)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(
            self.runner, self.settings.metrics_host, metrics_port(self.service, self.settings)
        )
        await site.start()
        server: Any = site._server
        port = int(server.sockets[0].getsockname()[1])
        self.announce(port)
        return port

    def announce(self, port: int) -> None:
        host = self.settings.metrics_host
        metrics.STATE.endpoint = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"
        log.info(
            "health and metrics on %s (/livez /readyz /metrics /status)", metrics.STATE.endpoint
        )

    def start_loop(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"{self.service}-heartbeat")

    async def _loop(self) -> None:
        from services.common.redisconn import make_redis

        self._redis = make_redis(self.settings, max_connections=2)
        while True:
            for step in (self._beat, self.lag):
                if step is None:
                    continue
                try:
                    await step()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # observability must never stop the service
                    log.debug("%s: %s failed: %s", self.service, step.__name__, exc)
            await asyncio.sleep(self.settings.status_interval_s)

    async def _beat(self) -> None:
        assert self._redis is not None
        await publish_heartbeat(self._redis, self.settings)

    async def stop(self) -> None:
        if self._task is not None:
            await stop_tasks([self._task])
        if self._redis is not None:
            with contextlib.suppress(Exception):
                key = RedisKeys(self.settings.redis_prefix).status(
                    self.service, metrics.STATE.instance
                )
                await self._redis.delete(key)
            await self._redis.aclose()
        if self.runner is not None:
            await self.runner.cleanup()


def stage_lag(settings: Settings, stage: str) -> Callable[[], Awaitable[None]]:
    """A step that measures the stage's consumer-group lag into the `newswire_consumer_lag` gauge."""
    from services.common.kafka_admin import KafkaAdmin
    from services.common.topology import group_id, inputs

    topics = [getattr(Topics.from_settings(settings), attr) for attr in inputs(stage)]
    group = group_id(settings, stage)

    async def lag() -> None:
        async with KafkaAdmin.connect(settings) as admin:
            found = [await admin.lag(group, topic) for topic in topics]
        for one in found:
            for partition, n in one.by_partition.items():
                metrics.CONSUMER_LAG.labels(group, one.topic, str(partition)).set(n)

    return lag


def attach_to_faust(app: Any, service: str, settings: Settings) -> Ops:
    """Hook for `make_app`: the health server and heartbeat start and stop with the faust worker."""
    ops = Ops(service, settings, lag=stage_lag(settings, service))

    async def on_start() -> None:
        try:
            await ops.serve()
        except OSError as exc:  # the pipeline matters more than its probes: keep processing
            log.error(
                "%s: no health/metrics server (%s): set NEWSWIRE_METRICS_PORT to a free port",
                service,
                exc,
            )
        ops.start_loop()

    async def on_stop(sender: Any, **_: Any) -> None:
        await ops.stop()

    app.task(on_start)
    app.on_before_shutdown.connect(on_stop)
    return ops


def attach_to_aiohttp(app: web.Application, service: str, settings: Settings) -> Ops:
    """Hook for the ingest app: the same endpoints on its own HTTP port, plus the heartbeat."""
    ops = Ops(service, settings)
    add_routes(app, ops.readiness)

    async def lifecycle(_: web.Application) -> Any:
        ops.announce(settings.http_port)
        ops.start_loop()
        yield
        await ops.stop()

    app.cleanup_ctx.append(lifecycle)
    return ops


def dumps_status(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=2, sort_keys=True)
