"""Replay files and folders into the raw topic; unreadable or invalid files are reported, not fatal."""

from __future__ import annotations

from pathlib import Path

from services.common.settings import Settings
from services.ingest.archive import ArchiveReport, ReplayOptions, replay_archive

ReplayReport = ArchiveReport  # published ids, duplicates, skipped items, failures with reasons


async def replay(
    settings: Settings, paths: list[Path], batch: int = 500, opts: ReplayOptions | None = None
) -> ReplayReport:
    """Formats, pacing, progress and the summary live in `services.ingest.archive`."""
    o = opts or ReplayOptions()
    o.batch = batch if opts is None else o.batch
    return await replay_archive(settings, paths, o)
