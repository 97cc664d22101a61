"""Replay files and folders into the raw topic; unreadable or invalid files are reported, not fatal.

Formats, pacing, progress, retries, the hostile-input checks (the same gate as HTTP ingest and
feeds: `services.ingest.parse.checker`) and the summary live in `services.ingest.archive`.
"""

from __future__ import annotations

from pathlib import Path

from services.common.settings import Settings
from services.ingest.archive import (
    ArchiveReport,
    ReplayOptions,
    publish_with_retry,
    replay_archive,
)

ReplayReport = ArchiveReport  # published ids, duplicates, skipped items, failures with reasons
__all__ = ["ReplayOptions", "ReplayReport", "publish_with_retry", "replay"]


async def replay(
    settings: Settings, paths: list[Path], batch: int = 500, opts: ReplayOptions | None = None
) -> ReplayReport:
    o = opts or ReplayOptions()
    o.batch = batch if opts is None else o.batch
    return await replay_archive(settings, paths, o)
