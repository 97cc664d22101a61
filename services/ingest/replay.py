"""Replay files and folders into the raw topic; unreadable or invalid files are reported, not fatal.

Formats, pacing, progress, retries and the summary live in `services.ingest.archive`; this adds the
same hostile-input checks as HTTP ingest (blank text, control characters, implausible dates).
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path

from schemas import RawArticle
from schemas.base import utcnow
from services.common.settings import Settings
from services.ingest.archive import (
    ArchiveReport,
    ReplayOptions,
    publish_with_retry,
    replay_archive,
)
from services.ingest.parse import Limits, check_article

ReplayReport = ArchiveReport  # published ids, duplicates, skipped items, failures with reasons
__all__ = ["ReplayOptions", "ReplayReport", "publish_with_retry", "replay"]


def _check(article: RawArticle, limits: Limits) -> RawArticle:
    return check_article(article, utcnow(), limits)


async def replay(
    settings: Settings, paths: list[Path], batch: int = 500, opts: ReplayOptions | None = None
) -> ReplayReport:
    o = opts or ReplayOptions()
    o.batch = batch if opts is None else o.batch
    if o.check is None:
        limits = Limits(
            max_past=timedelta(days=settings.max_past_days),
            max_future=timedelta(seconds=settings.max_future_s),
        )
        o.check = partial(_check, limits=limits)
    return await replay_archive(settings, paths, o)
