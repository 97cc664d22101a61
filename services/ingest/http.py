"""HTTP ingest: POST /articles (one or a list), GET /health. 202 only after Kafka acknowledged."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from schemas import RawArticle
from services.common import metrics
from services.common.health import attach_to_aiohttp
from services.common.settings import Settings
from services.ingest.parse import ArticleError, from_mapping
from services.ingest.publisher import Publisher

log = logging.getLogger(__name__)
PUBLISHER: web.AppKey[Publisher] = web.AppKey("publisher", Publisher)
SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)


def _error(status: int, message: str, **extra: Any) -> web.Response:
    metrics.rejected("ingest", status)
    return web.json_response({"error": message, **extra}, status=status)


async def post_articles(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    if request.content_type != "application/json":
        return _error(415, f"send Content-Type: application/json, not {request.content_type!r}")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"body larger than {request.app._client_max_size} bytes")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return _error(400, f"body is not UTF-8: {exc}")
    except json.JSONDecodeError as exc:
        return _error(400, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
    items = doc if isinstance(doc, list) else [doc]
    if not items:
        return _error(422, "empty list: send one article or a non-empty list")
    if len(items) > settings.max_batch:
        return _error(413, f"{len(items)} articles in one request; at most {settings.max_batch}")
    articles: list[RawArticle] = []
    errors = []
    for i, obj in enumerate(items):
        try:
            articles.append(from_mapping(obj, source="http"))
        except ArticleError as exc:
            errors.append({"index": i, "error": str(exc)})
    if errors:  # nothing half-accepted
        return _error(422, "invalid article(s); nothing was accepted", items=errors)
    try:
        ids = await request.app[PUBLISHER].publish(articles)
    except Exception as exc:
        log.warning("publish failed: %s: %s", type(exc).__name__, exc)
        metrics.error("ingest", exc)
        return web.json_response(
            {"error": "Kafka did not acknowledge the articles; retry later"},
            status=503,
            headers={"Retry-After": "5"},
        )
    metrics.ingested(len(ids))
    return web.json_response({"accepted": len(ids), "ids": ids}, status=202)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def make_app(settings: Settings, publisher: Publisher) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    app[PUBLISHER] = publisher
    app.router.add_post("/articles", post_articles)
    app.router.add_get("/health", health)
    attach_to_aiohttp(app, "ingest", settings)  # /livez /readyz /metrics /status, heartbeat

    async def lifecycle(app: web.Application) -> Any:
        await publisher.start()
        yield
        await publisher.stop()

    app.cleanup_ctx.append(lifecycle)
    return app
