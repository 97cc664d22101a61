"""Trends, the pure part: which terms an article counts for, its window, when a count is a spike,
the alert.

The alerts stage sends one `StoryTerms` per story-opening article (services/alerts/trend_terms.py);
the trends worker (services/trends/worker.py) counts its terms per tumbling window in Redis
(services/trends/counter.py), shared by every replica, and raises an alert for each spike.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from schemas import Alert, Match, StoryTerms
from schemas.base import utcnow
from schemas.ids import alert_id
from services.common.settings import Settings

TREND_RULE = "trend"


@dataclass(frozen=True)
class TrendConfig:
    window_s: float = 3600.0
    baseline_windows: int = 24
    factor: float = 3.0
    min_count: int = 10

    @classmethod
    def from_settings(cls, s: Settings) -> TrendConfig:
        return cls(s.trend_window_s, s.trend_baseline_windows, s.trend_factor, s.trend_min_count)


def window_of(timestamp_s: float, cfg: TrendConfig) -> int:
    """The tumbling window a record falls in, by its Kafka timestamp (when the alerts stage sent
    it), as epoch seconds."""
    return int(timestamp_s - timestamp_s % cfg.window_s)


def is_spike(current: int, baseline: Sequence[int], cfg: TrendConfig) -> bool:
    """Spike: at least `min_count` this window and `factor` times the baseline mean plus one (the +1
    keeps a term never seen before from trending on its first few mentions)."""
    if current < cfg.min_count:
        return False
    mean = statistics.fmean(baseline) if baseline else 0.0
    return current >= cfg.factor * (mean + 1.0)


def trend_alert(
    term: str,
    current: int,
    baseline: Sequence[int],
    window_start: float,
    cfg: TrendConfig,
    source: StoryTerms,
) -> Alert:
    """One alert per (term, window): the id is derived from both, so a replica or replay repeats it."""
    mean = statistics.fmean(baseline) if baseline else 0.0
    kind, _, name = term.partition(":")
    started = datetime.fromtimestamp(window_start, UTC)
    ratio = current / (mean + 1.0)
    text = (
        f"'{name}' ({kind}) in {current} articles this {cfg.window_s / 60:.0f}-minute window "
        f"vs {mean:.1f} per window over the previous {len(baseline)}"
    )
    return Alert(
        id=alert_id(f"trend:{term}:{int(window_start)}", TREND_RULE),
        rule_id=TREND_RULE,
        rule_description=f"Trend: {text}",
        severity="medium" if ratio < 2 * cfg.factor else "high",
        score=round(min(10.0, ratio), 2),
        matches=[Match(term=name, sentence=text, start=0, end=0)],
        article_id=source.article_id,
        story_id=f"trend:{term}:{started.isoformat()}",
        title=f"Trending: {name}",
        url=source.url,
        countries=[name] if kind == "country" else [],
        entities=[name] if kind == "entity" else [],
        times=source.times.model_copy(update={"alerted": utcnow()}),
    )
