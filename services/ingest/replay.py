"""Replay files and folders into the raw topic; unreadable or invalid files are reported, not fatal."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from services.common.settings import Settings
from services.ingest.parse import Item, read_paths
from services.ingest.publisher import Publisher


@dataclass
class ReplayReport:
    published: list[str] = field(default_factory=list)
    skipped: list[Item] = field(default_factory=list)


async def replay(settings: Settings, paths: list[Path], batch: int = 500) -> ReplayReport:
    report = ReplayReport()
    publisher = Publisher(settings)
    await publisher.start()
    try:
        pending = []
        for item in read_paths(paths):
            if item.article is None:
                report.skipped.append(item)
                continue
            pending.append(item.article)
            if len(pending) >= batch:
                report.published += await publisher.publish(pending)
                pending = []
        if pending:
            report.published += await publisher.publish(pending)
    finally:
        await publisher.stop()
    return report
