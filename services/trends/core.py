"""Trends, the pure part: which terms an article counts for, its window, when a count is a spike,
the alert.

The alerts stage sends `trend_records` (one `StoryTerms` per story-opening article); the trends
worker (services/trends/worker.py) counts its terms per tumbling window in Redis
(services/trends/counter.py), shared by every replica, and raises an alert for each spike.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas import Alert, Match, StoryTerms, TaggedArticle
from schemas.base import utcnow
from schemas.ids import alert_id
from services.alerts.core import StoryState, article_time
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


def trend_terms(tagged: TaggedArticle) -> list[str]:
    """What is counted per article: each term once, so one long article cannot make a trend alone."""
    art = tagged.article
    terms = {f"topic:{t.id}" for t in tagged.topics}
    terms |= {f"event:{e}" for e in _event_types(tagged)}
    terms |= {f"country:{c}" for c in art.countries}
    terms |= {
        f"entity:{e.name}" for e in art.entities if e.type in ("person", "organisation", "weapon")
    }
    return sorted(terms)


def _event_types(tagged: TaggedArticle) -> list[str]:
    events: Sequence[Any] = getattr(tagged, "events", None) or []
    out = []
    for e in events:
        name = (
            getattr(e, "type", None)
            or getattr(e, "event_type", None)
            or (e if isinstance(e, str) else None)
        )
        if name:
            out.append(str(name))
    return out


def opens_story(tagged: TaggedArticle, stories: StoryState) -> bool:
    """True for the first article of a story (and a redelivery of it), false for later copies."""
    now = article_time(tagged)
    stories.prune(now)
    story, _ = stories.assign(tagged, now)
    return story.id == tagged.article.id


def trend_records(tagged: TaggedArticle, stories: StoryState) -> list[StoryTerms]:
    """What the alerts stage sends to the terms topic for one article: its terms if it opened a
    story, else nothing (trends count stories, not copies)."""
    if not opens_story(tagged, stories):
        return []
    art = tagged.article
    return [StoryTerms(article_id=art.id, url=art.url, terms=trend_terms(tagged), times=art.times)]


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
