"""HTTP ingest: POST /articles (one or a list), GET /health. 202 only after Kafka acknowledged.

Hostile clients are expected: bearer-token auth (when configured: on every route but the probes,
so /metrics and /status too; required to listen beyond loopback), a per-client request limit
and a per-token article limit (a batch counts its articles), client addresses taken from
X-Forwarded-For only behind a configured trusted proxy, a body size limit, and 4xx answers that
name the field — never a half-accepted batch.
"""

from __future__ import annotations

import ipaddress
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
from services.ingest.clients import ANONYMOUS, Client, authenticate, claim, clients_of
from services.ingest.parse import ArticleError, Check, checker, from_mapping
from services.ingest.publisher import Publisher

log = logging.getLogger(__name__)
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
PUBLISHER: web.AppKey[Publisher] = web.AppKey("publisher", Publisher)
SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)
CHECK: web.AppKey[Check] = web.AppKey("check")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC_PATHS = frozenset({"/health", "/livez", "/readyz"})  # probes; the rest needs the token
ARTICLE_LIMITER: web.AppKey[RateLimiter | None] = web.AppKey("article_limiter")
CLIENT: web.RequestKey[Client] = web.RequestKey("client", Client)
TRUSTED: web.AppKey[list[IPNetwork]] = web.AppKey("trusted_proxies")


class InsecureBind(RuntimeError):
    """Ingest asked to listen beyond loopback with no token: anyone could publish."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    """Refuses a non-loopback bind address without a token (NEWSWIRE_API_TOKEN or _API_CLIENTS)."""
    if not clients_of(settings) and not _is_loopback(settings.http_host):
        raise InsecureBind(
            f"ingest would listen on {settings.http_host} without a token: set "
            "NEWSWIRE_API_TOKEN or NEWSWIRE_API_CLIENTS (clients send theirs as a bearer token) "
            "or bind to 127.0.0.1"
        )


def _within(address: str, networks: list[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: web.Request, trusted: list[IPNetwork]) -> str:
    """The peer, or behind a trusted proxy the last X-Forwarded-For hop it did not add itself
    (read from the right: the left part is whatever the client wrote)."""
    peer = request.remote or "?"
    if not _within(peer, trusted):
        return peer
    hops = [h.strip() for v in request.headers.getall("X-Forwarded-For", []) for h in v.split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _within(hop, trusted):
            return hop
    return peer


def _error(status: int, message: str, **extra: Any) -> web.Response:
    metrics.rejected("ingest", status)
    return web.json_response({"error": message, **extra}, status=status)


class RateLimiter:
    """Token bucket per key (a client address, a token); remembers a bounded number of keys (LRU)."""

    def __init__(self, rate: float, burst: int, max_clients: int = 10_000) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def retry_after(self, client: str, now: float, cost: float = 1.0) -> float:
        """0 when `cost` may pass (and is counted), else seconds until it would."""
        tokens, last = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= cost:
            tokens -= cost
        else:
            wait = (cost - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


def _too_many(wait: float, what: str) -> web.Response:
    metrics.rejected("ingest", 429)
    return web.json_response(
        {"error": f"rate limit exceeded ({what}); slow down"},
        status=429,
        headers={"Retry-After": str(max(1, round(wait)))},
    )


def _security_middleware(settings: Settings) -> Any:
    tokens = clients_of(settings)
    limiter = (
        RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
        if settings.rate_limit_per_s > 0
        else None
    )
    trusted = _networks(settings.trusted_proxies)

    @web.middleware
    async def security(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in PUBLIC_PATHS:
            return await handler(request)
        if limiter is not None:
            wait = limiter.retry_after(client_address(request, trusted), time.monotonic())
            if wait > 0:
                return _too_many(wait, "requests per client")
        request[CLIENT] = ANONYMOUS
        if tokens:
            given = request.headers.get("Authorization", "")
            scheme, _, value = given.partition(" ")
            client = authenticate(tokens, value.encode()) if scheme.lower() == "bearer" else None
            if client is None:
                metrics.rejected("ingest", 401)
                return web.json_response(
                    {"error": "missing or wrong bearer token: send Authorization: Bearer TOKEN"},
                    status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="newswire"'},
                )
            request[CLIENT] = client
        return await handler(request)

    return security


@web.middleware
async def _json_routing_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A wrong path or method gets a JSON answer that names what exists, like every other 4xx."""
    try:
        return await handler(request)
    except web.HTTPMethodNotAllowed as exc:
        allowed = ", ".join(sorted(exc.allowed_methods))
        return _error(405, f"{request.method} is not allowed on {request.path}; use {allowed}")
    except web.HTTPNotFound:
        routes = sorted(
            f"{r.method} {r.resource.canonical}"
            for r in request.app.router.routes()
            if r.resource is not None and r.method != "HEAD"  # HEAD comes with every GET
        )
        return _error(404, f"no route {request.method} {request.path}; routes: {', '.join(routes)}")


def _networks(cidrs: list[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(c, strict=False) for c in cidrs]


def _charge_articles(request: web.Request, count: int) -> web.Response | None:
    """The per-token article limit (per client address without a token): a batch of n costs n."""
    limiter = request.app[ARTICLE_LIMITER]
    if limiter is None:
        return None
    if count > limiter.burst:
        return _error(
            413,
            f"{count} articles in one request; at most {int(limiter.burst)} under the rate "
            "limit (NEWSWIRE_RATE_LIMIT_ARTICLES_BURST)",
        )
    client = request[CLIENT]
    key = (
        f"client:{client.name}"
        if client is not ANONYMOUS
        else client_address(request, request.app[TRUSTED])
    )
    wait = limiter.retry_after(key, time.monotonic(), cost=count)
    return _too_many(wait, "articles per token") if wait > 0 else None


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


def validate_items(items: list[Any], check: Check, client: Client = ANONYMOUS) -> Batch:
    """Every item through the one gate, then bound to `client` (its sources, its name)."""
    good: list[tuple[int, RawArticle]] = []
    bad: list[dict[str, Any]] = []
    for i, obj in enumerate(items):
        try:
            good.append((i, claim(check(from_mapping(obj, source=client.name)), client)))
        except ArticleError as exc:
            bad.append({"index": i, "status": "rejected", "error": str(exc)})
    return Batch(good, bad)


def parse_body(
    raw: bytes,
    settings: Settings,
    partial: bool = False,
    check: Check | None = None,
    client: Client = ANONYMOUS,
) -> Batch | web.Response:
    """The articles of a body, or the 4xx that says what is wrong. All or nothing unless
    `partial`: then the valid items pass and the invalid ones come back in `bad` (but a body
    with no valid item is still refused). `client` sent it: its sources bound what it may claim."""
    items = _decode(raw, settings)
    if isinstance(items, web.Response):
        return items
    batch = validate_items(items, check or checker(settings), client)
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
    batch = parse_body(raw, settings, partial, request.app[CHECK], request[CLIENT])
    if isinstance(batch, web.Response):
        return batch
    if (limited := _charge_articles(request, len(batch.good))) is not None:
        return limited
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
    """The ingest app; raises InsecureBind for a non-loopback address without a token."""
    check_exposure(settings)
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[_security_middleware(settings), _json_routing_errors],
    )
    app[SETTINGS] = settings
    app[PUBLISHER] = publisher
    app[CHECK] = checker(settings)
    app[TRUSTED] = _networks(settings.trusted_proxies)
    app[ARTICLE_LIMITER] = (
        RateLimiter(settings.rate_limit_articles_per_s, settings.rate_limit_articles_burst)
        if settings.rate_limit_articles_per_s > 0
        else None
    )
    app.router.add_post("/articles", post_articles)
    app.router.add_get("/health", health)
    attach_to_aiohttp(app, "ingest", settings)  # /livez /readyz /metrics /status, heartbeat

    async def lifecycle(app: web.Application) -> Any:
        await publisher.start()
        yield
        await publisher.stop()

    app.cleanup_ctx.append(lifecycle)
    return app
