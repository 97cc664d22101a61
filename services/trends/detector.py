"""From one story to the trend alerts it completes: event time and window, the count, the spike
test, one alert per surge. Shared by the trends worker (Redis) and the offline simulation (memory),
so both decide alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from schemas import Alert, StoryTerms
from services.trends.core import (
    Baseline,
    TrendConfig,
    event_time,
    is_closed,
    spike,
    trend_alert,
    window_of,
)
from services.trends.counter import Counter
from services.trends.terms import TrendTerms


@dataclass(frozen=True)
class Raised:
    """A trend alert to send; once it is out, `TrendDetector.done` records it."""

    alert: Alert
    window: int
    term: str
    article_ids: tuple[str, ...]


class TrendDetector:
    def __init__(self, counter: Counter, cfg: TrendConfig, terms: TrendTerms) -> None:
        self.counter = counter
        self.cfg = cfg
        self.terms = terms

    async def observe(self, story: StoryTerms, received_s: float) -> list[Raised]:
        """Counts the story in its window of event time (once, however often it is delivered)
        and returns the alerts of the terms it made spike, at most one per term and window. A term
        whose stories an alert of the window already lists (half of them or more: the same surge
        seen through another kind or place level) stays quiet."""
        at = event_time(story, received_s, self.cfg)
        window = window_of(at, self.cfg)
        counted = await self.counter.count(story, at, window, self.terms.terms_of(story))
        if not counted.candidates or is_closed(window, counted.latest, self.cfg):
            return []
        listed: set[str] = set()
        raised = []
        for c in sorted(counted.candidates, key=lambda c: self.terms.priority(c.term)):
            s = spike(c.term, c.current, Baseline.of(c.baseline, counted.totals), self.cfg)
            if s is None:
                continue
            ids = tuple(r.article_id for r in c.stories)
            if 2 * len((c.covered | listed) & set(ids)) >= len(ids):
                continue
            listed |= set(ids)
            alert = trend_alert(s, c.stories, window, self.cfg, story)
            raised.append(Raised(alert, window, c.term, ids))
        return raised

    async def done(self, raised: Sequence[Raised]) -> None:
        """After the alerts are durable: their terms alerted, their stories listed."""
        for r in raised:
            await self.counter.mark(r.window, r.term, r.article_ids)
