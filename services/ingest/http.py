"""HTTP ingest: POST /articles (one or a list), GET /health. 202 only after Kafka acknowledged.

Hostile clients are expected: bearer-token auth (when configured), a per-client token-bucket rate
limit, a body size limit, and 4xx answers that name the field — never a half-accepted batch.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from schemas import RawArticle
from services.common import metrics
from services.common.health import attach_to_aiohttp
from services.common.settings import Settings
from services.ingest.parse import ArticleError, Check, checker, from_mapping
from services.ingest.publisher import Publisher

log = logging.getLogger(__name__)
PUBLISHER: web.AppKey[Publisher] = web.AppKey("publisher", Publisher)
SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)
CHECK: web.AppKey[Check] = web.AppKey("check")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PROTECTED_PREFIX = "/articles"  # probes, /metrics and /status stay open (bound to 127.0.0.1)


def _error(status: int, message: str, **extra: Any) -> web.Response:
    metrics.rejected("ingest", status)
    return web.json_response({"error": message, **extra}, status=status)


class RateLimiter:
    """Token bucket per client address; remembers a bounded number of clients (LRU)."""

    def __init__(self, rate: float, burst: int, max_clients: int = 10_000) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def retry_after(self, client: str, now: float) -> float:
        """0 when the request may pass (and is counted), else seconds until it would."""
        tokens, last = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


def _security_middleware(settings: Settings) -> Any:
    token = settings.api_token.get_secret_value().encode() if settings.api_token else None
    limiter = (
        RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
        if settings.rate_limit_per_s > 0
        else None
    )

    @web.middleware
    async def security(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(PROTECTED_PREFIX):
            return await handler(request)
        if limiter is not None:
            wait = limiter.retry_after(request.remote or "?", time.monotonic())
            if wait > 0:
                return web.json_response(
                    {"error": "rate limit exceeded; slow down"},
                    status=429,
                    headers={"Retry-After": str(max(1, round(wait)))},
                )
        if token is not None:
            given = request.headers.get("Authorization", "")
            scheme, _, value = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(value.encode(), token):
                return web.json_response(
                    {"error": "missing or wrong bearer token"},
                    status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="newswire"'},
                )
        return await handler(request)

    return security


def _decode(raw: bytes, settings: Settings) -> list[Any] | web.Response:
    """The JSON body as a non-empty list of items, or the 4xx that says what is wrong."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return _error(400, f"body is not UTF-8: byte {exc.start} is invalid")
    except json.JSONDecodeError as exc:
        return _error(400, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
    except RecursionError:
        return _error(400, "invalid JSON: nested too deeply")
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        return _error(400, f"invalid JSON: {str(exc)[:200]}")
    items = doc if isinstance(doc, list) else [doc]
    if not items:
        return _error(422, "empty list: send one article or a non-empty list")
    if len(items) > settings.max_batch:
        return _error(413, f"{len(items)} articles in one request; at most {settings.max_batch}")
    return items


@dataclass(frozen=True)
class Batch:
    """A decoded body: (index, article) of every valid item, {index, status, error} of the rest."""

    good: list[tuple[int, RawArticle]]
    bad: list[dict[str, Any]]

    @property
    def articles(self) -> list[RawArticle]:
        return [a for _, a in self.good]


def validate_items(items: list[Any], check: Check) -> Batch:
    good: list[tuple[int, RawArticle]] = []
    bad: list[dict[str, Any]] = []
    for i, obj in enumerate(items):
        try:
            good.append((i, check(from_mapping(obj, source="http"))))
        except ArticleError as exc:
            bad.append({"index": i, "status": "rejected", "error": str(exc)})
    return Batch(good, bad)


def parse_body(
    raw: bytes, settings: Settings, partial: bool = False, check: Check | None = None
) -> Batch | web.Response:
    """The articles of a body, or the 4xx that says what is wrong. All or nothing unless
    `partial`: then the valid items pass and the invalid ones come back in `bad` (but a body
    with no valid item is still refused)."""
    items = _decode(raw, settings)
    if isinstance(items, web.Response):
        return items
    batch = validate_items(items, check or checker(settings))
    if batch.bad and (not partial or not batch.good):
        what = "nothing was accepted" if not partial else "no valid article"
        return _error(422, f"invalid article(s); {what}", items=batch.bad)
    return batch


async def post_articles(request: web.Request) -> web.Response:
    """All or nothing by default; with `?partial=true` the valid items of a batch are accepted and
    the invalid ones rejected, each with its own result in `items`, in request order."""
    settings = request.app[SETTINGS]
    if request.content_type != "application/json":
        return _error(415, f"send Content-Type: application/json, not {request.content_type!r}")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"body larger than {settings.max_body_bytes} bytes")
    partial = request.query.get("partial", "").lower() in ("1", "true", "yes")
    batch = parse_body(raw, settings, partial, request.app[CHECK])
    if isinstance(batch, web.Response):
        return batch
    try:
        ids = await request.app[PUBLISHER].publish(batch.articles)
    except Exception as exc:
        log.warning("publish failed: %s", type(exc).__name__)
        metrics.error("ingest", exc)
        return web.json_response(
            {"error": "Kafka did not acknowledge the articles; nothing is accepted, retry later"},
            status=503,
            headers={"Retry-After": "5"},
        )
    metrics.ingested(len(ids))
    results: list[dict[str, Any]] = [
        {"index": i, "status": "accepted", "id": aid}
        for (i, _), aid in zip(batch.good, ids, strict=True)
    ]
    results = sorted(results + batch.bad, key=lambda r: int(r["index"]))  # request order
    return web.json_response(
        {"accepted": len(ids), "rejected": len(batch.bad), "ids": ids, "items": results},
        status=202,
    )


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def make_app(settings: Settings, publisher: Publisher) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_body_bytes, middlewares=[_security_middleware(settings)]
    )
    app[SETTINGS] = settings
    app[PUBLISHER] = publisher
    app[CHECK] = checker(settings)
    app.router.add_post("/articles", post_articles)
    app.router.add_get("/health", health)
    attach_to_aiohttp(app, "ingest", settings)  # /livez /readyz /metrics /status, heartbeat

    async def lifecycle(app: web.Application) -> Any:
        await publisher.start()
        yield
        await publisher.stop()

    app.cleanup_ctx.append(lifecycle)
    return app
