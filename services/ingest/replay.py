"""Replay files and folders into the raw topic; unreadable or invalid files are reported, not fatal.

A batch Kafka does not acknowledge is sent again with backoff (article ids are deterministic, so a
resend is deduplicated downstream) until `retry_for_s` has passed without any progress.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from schemas import RawArticle
from schemas.base import utcnow
from services.common.settings import Settings
from services.ingest.parse import ArticleError, Item, Limits, check_article, read_paths
from services.ingest.publisher import Publisher

log = logging.getLogger(__name__)


@dataclass
class ReplayReport:
    published: list[str] = field(default_factory=list)
    skipped: list[Item] = field(default_factory=list)
    retries: int = 0


def _checked(item: Item, limits: Limits) -> Item:
    if item.article is None:
        return item
    try:
        check_article(item.article, utcnow(), limits)
    except ArticleError as exc:
        return replace(item, article=None, error=str(exc))
    return item


async def publish_with_retry(
    publisher: Publisher, batch: list[RawArticle], report: ReplayReport, retry_for_s: float
) -> None:
    deadline = time.monotonic() + retry_for_s
    delay = 0.5
    while True:
        try:
            report.published += await publisher.publish(batch)
            return
        except Exception as exc:
            if time.monotonic() > deadline:
                raise
            report.retries += 1
            log.warning("publish failed (%s); retrying in %.1fs", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def replay(
    settings: Settings, paths: list[Path], batch: int = 500, retry_for_s: float = 120.0
) -> ReplayReport:
    report = ReplayReport()
    limits = Limits(
        max_past=timedelta(days=settings.max_past_days),
        max_future=timedelta(seconds=settings.max_future_s),
    )
    publisher = Publisher(settings)
    await publisher.start()
    try:
        pending: list[RawArticle] = []
        for raw_item in read_paths(paths):
            item = _checked(raw_item, limits)
            if item.article is None:
                report.skipped.append(item)
                continue
            pending.append(item.article)
            if len(pending) >= batch:
                await publish_with_retry(publisher, pending, report, retry_for_s)
                pending = []
        if pending:
            await publish_with_retry(publisher, pending, report, retry_for_s)
    finally:
        await publisher.stop()
    return report
