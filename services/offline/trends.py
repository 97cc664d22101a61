"""Trend alerts of a replay, offline: the chain (enrich -> tag -> the alerts stage's story index)
and the trends detector with its counts in memory instead of Redis, in one process.

    python -m services.offline.trends reut2-000.xml [--mapping reuters21578] [--rate 50]

Each article is "ingested" at `rate` per second from `start` (as `newswire replay --rate` would),
which is its event time when it has no date (or an implausible one). What the workers would raise
on a stack that counted nothing before, which is how the figures of docs/trends.md were measured.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from schemas import Alert, StageTimes, TaggedArticle
from services.alerts.core import StoryState
from services.alerts.trend_terms import trend_records
from services.common.settings import get_settings
from services.trends.core import TrendConfig
from services.trends.counter import MemoryCounter
from services.trends.detector import TrendDetector
from services.trends.terms import TrendTerms, load_trend_terms


@dataclass
class Replay:
    """Trend alerts of tagged articles fed in order, as the alerts and trends workers would."""

    cfg: TrendConfig
    terms: TrendTerms
    rate: float = 50.0
    start: float = field(default_factory=time.time)  # when the replay is ingested

    def __post_init__(self) -> None:
        self.stories = StoryState()
        self.detector = TrendDetector(MemoryCounter(self.cfg), self.cfg, self.terms)
        self.fed = 0

    def ingested(self, tagged: TaggedArticle) -> TaggedArticle:
        """The article as ingest would have stamped it, `fed / rate` seconds into the replay."""
        at = datetime.fromtimestamp(self.start + self.fed / self.rate, UTC)
        self.fed += 1
        times = StageTimes(**{**tagged.article.times.model_dump(), "ingested": at})
        article = tagged.article.model_copy(update={"times": times})
        return tagged.model_copy(update={"article": article})

    async def feed(self, tagged: TaggedArticle) -> list[Alert]:
        out = []
        for story in trend_records(self.ingested(tagged), self.stories):
            assert story.times.ingested is not None
            raised = await self.detector.observe(story, story.times.ingested.timestamp())
            await self.detector.done(raised)
            out += [r.alert for r in raised]
        return out

    async def run(self, articles: Iterable[TaggedArticle]) -> list[Alert]:
        return [a for t in articles for a in await self.feed(t)]


def spread(articles: list[TaggedArticle], span_s: float, end: float) -> list[TaggedArticle]:
    """Undated articles dated evenly over `span_s` seconds before `end`, in their order."""
    step = span_s / max(len(articles), 1)
    out = []
    for i, t in enumerate(articles):
        if t.article.times.published is None:
            at = datetime.fromtimestamp(end - span_s + i * step, UTC)
            times = t.article.times.model_copy(update={"published": at})
            t = t.model_copy(update={"article": t.article.model_copy(update={"times": times})})
        out.append(t)
    return out


def main(argv: list[str] | None = None) -> None:
    from services.ingest.archive import items_of_archive_file, load_mapping
    from services.offline.chain import Chain

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--mapping", default=None, help="archive mapping (default: by file type)")
    p.add_argument("--rate", type=float, default=50.0, help="replay rate, articles per second")
    p.add_argument("--tagged", action="store_true", help="the files hold TaggedArticle JSON lines")
    p.add_argument(
        "--spread-hours",
        type=float,
        default=None,
        help="date undated articles evenly over this many hours (a steady stream, not a burst)",
    )
    a = p.parse_args(argv)
    replay = Replay(TrendConfig.from_settings(get_settings()), load_trend_terms(), rate=a.rate)

    def articles() -> Iterable[TaggedArticle]:
        if a.tagged:
            for path in a.paths:
                with path.open(encoding="utf-8") as f:
                    yield from (TaggedArticle.model_validate_json(line) for line in f)
            return
        chain = Chain.load()
        mapping = load_mapping(a.mapping) if a.mapping else None
        for path in a.paths:
            for item in items_of_archive_file(path, mapping):
                if item.article is not None:
                    yield chain.tagged(item.article)

    feed = articles()
    if a.spread_hours:
        feed = spread(list(feed), a.spread_hours * 3600.0, replay.start)
    alerts = asyncio.run(replay.run(feed))
    print(f"{replay.fed} articles, {len(alerts)} trend alerts")
    for al in alerts:
        print(f"[{al.severity}] {al.title}: {al.rule_description}")


if __name__ == "__main__":
    main()
