"""Trends: per-window counts of stories mentioning a term (topics, event types, entities, countries) in a faust windowed
table, and a trend alert when a term spikes well above its own recent baseline.

The pure parts (`trend_terms`, `is_spike`, `trend_alert`) are separate from the faust wiring
(`install_trends`): terms are re-keyed onto an internal topic so each term is counted by exactly one
worker, whatever the number of replicas.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import faust

from schemas import Alert, Match, TaggedArticle, TrendTerm
from schemas.base import utcnow
from schemas.ids import alert_id
from services.alerts.core import StoryState, article_time
from services.common.settings import Settings
from services.common.topics import Topics

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


def trend_records(tagged: TaggedArticle, stories: StoryState) -> list[TrendTerm]:
    """What the alerts stage sends to the terms topic for one article: its terms if it opened a
    story, else nothing (trends count stories, not copies)."""
    if not opens_story(tagged, stories):
        return []
    art = tagged.article
    return [
        TrendTerm(term=t, article_id=art.id, url=art.url, times=art.times)
        for t in trend_terms(tagged)
    ]


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
    source: TrendTerm,
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


def install_trends(
    app: faust.App,
    settings: Settings,
    *,
    emit: Callable[[Alert], Awaitable[None]],
) -> None:
    """Adds the counting agent and its windowed table to the alerts app; the alerts stage itself
    sends the terms (`trend_records`), so the tagged topic has one reader and is decoded once."""
    cfg = TrendConfig.from_settings(settings)
    terms_topic = (
        app.topic(  # created with the others by ensure_topics: faust may not declare it in time
            Topics.from_settings(settings).trend_terms, key_serializer="raw", value_serializer="raw"
        )
    )
    counts = app.Table("trend-counts", default=int, partitions=settings.partitions).tumbling(
        cfg.window_s, expires=cfg.window_s * (cfg.baseline_windows + 2)
    )
    alerted: dict[str, int] = {}  # term -> start of the window it last alerted in

    async def count(stream: Any) -> None:
        async for event in stream.events():
            term = event.key.decode()
            counts[term] += 1
            current = counts[term].current()
            ts = event.message.timestamp
            window_start = ts - (ts % cfg.window_s)
            if alerted.get(term) == int(window_start):
                continue
            baseline = [
                counts[term].delta(cfg.window_s * k) for k in range(1, cfg.baseline_windows + 1)
            ]
            if is_spike(current, baseline, cfg):
                alerted[term] = int(window_start)
                source = TrendTerm.model_validate_json(event.value)
                await emit(trend_alert(term, current, baseline, window_start, cfg, source))

    app.agent(terms_topic, name="newswire.trends.count")(count)
