"""The feed poller inside the ingest service: conditional GET, parse, publish new entries, keep health.

Entries are marked seen only after Kafka acknowledged them, so a crash between the two re-publishes
(at-least-once; ids are deterministic, so downstream stays idempotent) and never loses an entry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from schemas.base import utcnow
from services.common import metrics
from services.common.outbound import Outbound, OutboundError, Response, TooLarge
from services.common.redact import mask_url, mask_urls
from services.common.redisconn import make_redis
from services.common.settings import Settings
from services.common.tasks import stop_tasks
from services.ingest.feeds.core import parse_feed
from services.ingest.feeds.health import (
    FeedConfig,
    after_failure,
    after_success,
    describe_problem,
    feed_key,
    feed_name,
    problem,
)
from services.ingest.feeds.store import FeedStore
from services.ingest.parse import Check, checker
from services.ingest.publisher import Publisher

log = logging.getLogger(__name__)
USER_AGENT = "newswire-feeds/0.1 (+https://github.com/newswire)"


@dataclass(frozen=True)
class PollResult:
    url: str
    status: str  # "new", "not-modified", "error"
    new: int = 0
    error: str | None = None


async def _fetch(
    http: Outbound, url: str, etag: str | None, modified: str | None, max_bytes: int
) -> Response:
    """The whole body (up to `max_bytes`, else TooLarge), redirects followed and re-checked."""
    headers = {"Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    return await http.request(
        "GET", url, headers=headers, max_bytes=max_bytes, redirects=True, truncate=True
    )


class FeedPoller:
    def __init__(
        self,
        store: FeedStore,
        publisher: Publisher,
        http: Outbound,
        *,
        check: Check | None = None,
        max_bytes: int | None = None,
        tick_s: float = 1.0,
        concurrency: int = 8,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.http = http
        self.check = check or checker(http.settings)  # the same gate as HTTP ingest
        self.max_bytes = max_bytes or http.settings.feed_max_bytes
        self.tick_s = tick_s
        self._limit = asyncio.Semaphore(concurrency)

    async def poll(self, cfg: FeedConfig) -> PollResult:
        """One poll of one feed, with its state updated and an ops alert on a change of health."""
        st = await self.store.state(cfg.url)
        now = utcnow()
        try:
            resp = await _fetch(self.http, cfg.url, st.etag, st.last_modified, self.max_bytes)
            status, headers = resp.status, resp.headers
            if status == 304:
                st = after_success(
                    cfg, st, now, 0, etag=None, last_modified=None, not_modified=True
                )
                result = PollResult(cfg.url, "not-modified")
            elif status != 200:
                raise ValueError(f"HTTP {status}")
            elif resp.truncated:
                raise TooLarge(f"feed larger than {self.max_bytes} bytes (NEWSWIRE_FEED_MAX_BYTES)")
            else:
                # Off the event loop: a 10 MB feed once held the ingest API for 7.9 s.
                parsed = await asyncio.to_thread(
                    parse_feed, resp.body, cfg.url, headers.get("Content-Type"), self.check
                )
                if not parsed.articles and parsed.malformed:
                    raise ValueError(f"unparseable feed: {parsed.malformed}")
                by_id = {a.id: a for a in parsed.articles}
                fresh = await self.store.unseen(cfg.url, list(by_id))
                if fresh:
                    await self.publisher.publish([by_id[i] for i in fresh])
                    await self.store.mark_seen(cfg.url, fresh, now)
                st = after_success(
                    cfg,
                    st,
                    now,
                    len(fresh),
                    etag=headers.get("ETag"),
                    last_modified=headers.get("Last-Modified"),
                )
                if parsed.malformed:
                    st = st.model_copy(update={"last_error": f"recovered: {parsed.malformed}"})
                result = PollResult(cfg.url, "new", len(fresh))
        except (aiohttp.ClientError, TimeoutError, ValueError, OSError, OutboundError) as exc:
            err = mask_urls(f"{type(exc).__name__}: {exc}".strip())
            st = after_failure(cfg, st, now, err)
            result = PollResult(cfg.url, "error", error=err)
            log.warning(
                "feed %s: %s (%d in a row)", feed_name(cfg.url), err, st.consecutive_failures
            )
        metrics.feed_fetched(feed_key(cfg.url), ok=result.status != "error", items=result.new)
        kind = problem(cfg, st, now)
        if kind != st.alarm:
            await self.store.raise_ops(
                {
                    "kind": f"feed-{kind}" if kind else "feed-recovered",
                    "feed": feed_key(cfg.url),
                    "url": mask_url(cfg.url),
                    "message": describe_problem(cfg, st, kind, now),
                    "at": now.isoformat(),
                }
            )
            log.warning(describe_problem(cfg, st, kind, now))
            st = st.model_copy(update={"alarm": kind})
        await self.store.save_state(cfg.url, st)
        return result

    async def _guarded(self, cfg: FeedConfig) -> None:
        async with self._limit:
            try:
                await self.poll(cfg)
            except Exception:  # Kafka or Redis down: try again at the next tick
                log.exception("feed %s: poll failed", feed_name(cfg.url))

    async def due(self) -> list[FeedConfig]:
        now = utcnow()
        feeds = await self.store.feeds()
        states = await self.store.states([c.url for c in feeds])
        return [
            cfg
            for cfg, st in zip(feeds, states, strict=True)
            if st.next_poll is None or st.next_poll <= now
        ]

    async def run(self) -> None:
        running: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                try:
                    for cfg in await self.due():
                        if cfg.url not in running or running[cfg.url].done():
                            running[cfg.url] = asyncio.create_task(self._guarded(cfg))
                except Exception:
                    log.exception("feed poller: cannot read the feed list")
                await asyncio.sleep(self.tick_s)
        finally:
            await stop_tasks(running.values())


def feeds_context(settings: Settings, publisher: Publisher) -> Any:
    """An aiohttp cleanup context running the poller next to the HTTP API, sharing its producer."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        client = make_redis(settings, max_connections=16)
        async with Outbound(settings, user_agent=USER_AGENT) as http:
            poller = FeedPoller(FeedStore(client, settings.redis_prefix), publisher, http)
            task = asyncio.create_task(poller.run())
            yield
            await stop_tasks([task])
        await client.aclose()

    return ctx
