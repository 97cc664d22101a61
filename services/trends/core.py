"""Trends, the pure part: an article's event time and window, what is normal for a term, when a
count is a spike, how severe it is, the alert.

The alerts stage sends one `StoryTerms` per story-opening article (services/alerts/trend_terms.py);
the trends worker (services/trends/worker.py) keeps the terms the trends file counts
(services/trends/terms.py), counts them per tumbling window of event time in Redis
(services/trends/counter.py), shared by every replica, and raises an alert for each spike
(services/trends/detector.py). docs/trends.md explains the choices and their figures.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from schemas import SEVERITIES, SEVERITY_RANK, Alert, Match, Severity, StoryTerms
from schemas.base import utcnow
from schemas.ids import alert_id
from services.common.settings import Settings

TREND_RULE = "trend"
MAX_STORIES = 20  # stories listed in one alert (the count says how many there were)


@dataclass(frozen=True)
class TrendConfig:
    """The trend settings the pure functions read. No defaults here: they are `Settings`' (the
    `trend_*` fields), so build one with `from_settings`."""

    window_s: float
    baseline_windows: int
    warmup_windows: int
    min_count: int
    factor: float
    floor: float
    alpha: float
    lateness_s: float
    max_future_s: float

    @classmethod
    def from_settings(cls, s: Settings) -> TrendConfig:
        return cls(
            window_s=s.trend_window_s,
            baseline_windows=s.trend_baseline_windows,
            warmup_windows=min(s.trend_warmup_windows, s.trend_baseline_windows),
            min_count=s.trend_min_count,
            factor=s.trend_factor,
            floor=s.trend_baseline_floor,
            alpha=s.trend_alpha,
            lateness_s=s.trend_lateness_s,
            max_future_s=s.trend_max_future_s,
        )


# ---- event time -----------------------------------------------------------------------------
def event_time(story: StoryTerms, received_s: float, cfg: TrendConfig) -> float:
    """When the story happened, as epoch seconds: its publication time, bounded by when it was
    ingested (`received_s`, the record's Kafka timestamp, when ingest did not stamp it). An article
    dated after its own ingestion (plus `max_future_s` of clock skew) is implausible and counts at
    its ingestion; an undated one too. An old date is kept: that is what replaying an archive is."""
    ingested = _epoch(story.times.ingested) if story.times.ingested else received_s
    published = story.times.published
    if published is None:
        return ingested
    at = _epoch(published)
    return ingested if at > ingested + cfg.max_future_s else at


def _epoch(t: datetime) -> float:
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()


def window_of(at_s: float, cfg: TrendConfig) -> int:
    """The tumbling window an event time falls in, as the epoch second it starts at."""
    return int(at_s - at_s % cfg.window_s)


def is_closed(window: int, watermark_s: float, cfg: TrendConfig) -> bool:
    """A window is closed once the watermark (the latest event time seen, less the allowed
    lateness) has passed its end: a late story still counts in it, for the baselines of the windows
    after it, but raises no alert about an hour that is long over."""
    return window + cfg.window_s <= watermark_s - cfg.lateness_s


# ---- what is normal, and what is a spike -----------------------------------------------------
@dataclass(frozen=True)
class Baseline:
    """A term's counts in the baseline windows that were observed (the pipeline counted at least
    one story in them): a window nobody watched is no evidence of a quiet hour."""

    counts: tuple[int, ...]
    observed: int  # windows observed
    windows: int  # windows in the baseline

    @classmethod
    def of(cls, counts: Sequence[int], totals: Sequence[int]) -> Baseline:
        seen = tuple(c for c, t in zip(counts, totals, strict=True) if t > 0)
        return cls(seen, len(seen), len(totals))

    def expected(self, cfg: TrendConfig) -> tuple[float, float]:
        """Mean and variance per window, the mean no lower than the floor, the variance no lower
        than the mean (Poisson)."""
        mean = statistics.fmean(self.counts) if self.counts else 0.0
        var = statistics.pvariance(self.counts) if len(self.counts) > 1 else 0.0
        mean = max(mean, cfg.floor)
        return mean, max(var, mean)


def tail_probability(k: int, mean: float, var: float) -> float:
    """P(X >= k) for a count of mean `mean`: Poisson when the term's baseline varies no more than
    Poisson does, else negative binomial with the baseline's variance, so a term that is bursty by
    nature needs a larger burst. Summed upwards from k, so a tiny tail does not cancel to 0."""
    if k <= 0:
        return 1.0
    if var <= mean * 1.0001:  # Poisson
        log_at = -mean + k * math.log(mean) - math.lgamma(k + 1)

        def step(i: int) -> float:
            return math.log(mean) - math.log(i + 1)
    else:  # negative binomial of the same mean and variance
        r = mean * mean / (var - mean)
        q = mean / (r + mean)
        log_at = (
            math.lgamma(k + r)
            - math.lgamma(r)
            - math.lgamma(k + 1)
            + r * math.log1p(-q)
            + k * math.log(q)
        )

        def step(i: int) -> float:
            return math.log(i + r) - math.log(i + 1) + math.log(q)

    total, log_term = 0.0, log_at
    for i in range(k, k + 100_000):
        total += math.exp(log_term)
        if total > 0 and log_term < math.log(total) - 40:
            break
        log_term += step(i)
    return min(1.0, total)


@dataclass(frozen=True)
class Spike:
    term: str
    current: int
    expected: float
    p_value: float
    baseline: Baseline

    @property
    def ratio(self) -> float:
        return self.current / self.expected


def spike(term: str, current: int, baseline: Baseline, cfg: TrendConfig) -> Spike | None:
    """A spike needs all of: the warm-up done (`warmup_windows` of the baseline windows
    observed), at least `min_count` stories, `factor` times what is expected, and a count that
    ordinary variance reaches with probability at most `alpha`."""
    if baseline.observed < cfg.warmup_windows or current < cfg.min_count:
        return None
    mean, var = baseline.expected(cfg)
    if current < cfg.factor * mean:
        return None
    p = tail_probability(current, mean, var)
    return Spike(term, current, mean, p, baseline) if p <= cfg.alpha else None


# ---- severity and the alert ------------------------------------------------------------------
@dataclass(frozen=True)
class StoryRef:
    """A story behind a trend, as the counter keeps it."""

    article_id: str
    title: str = ""
    url: str | None = None
    severity: Severity = "low"
    score: float = 0.0


def trend_severity(stories: Sequence[StoryRef], s: Spike, cfg: TrendConfig) -> Severity:
    """What at least a third of the stories reach (a few grave stories make a grave trend, one
    does not), one step higher when the count is far above normal: at least twice `factor` times
    the expected count and a p-value a hundred times below `alpha`."""
    ranks = sorted((SEVERITY_RANK[st.severity] for st in stories), reverse=True)
    rank = ranks[(len(ranks) + 2) // 3 - 1] if ranks else 0
    if s.ratio >= 2 * cfg.factor and s.p_value <= cfg.alpha / 100:
        rank += 1
    return SEVERITIES[min(rank, len(SEVERITIES) - 1)]


KIND_LABEL = {"place": "escalation in", "actors": "escalation between", "weapon": "weapon"}


def describe(term: str) -> tuple[str, str]:
    """A term's kind and its readable name: `place:UA/Kharkiv Oblast` -> ('place', 'Kharkiv
    Oblast, UA'), `actors:RU>UA` -> ('actors', 'RU → UA')."""
    kind, _, name = term.partition(":")
    if kind == "place" and "/" in name:
        country, _, area = name.partition("/")
        return kind, f"{area}, {country}"
    if kind == "actors":
        return kind, name.replace(">", " → ")
    return kind, name


def term_countries(term: str) -> list[str]:
    kind, _, name = term.partition(":")
    if kind == "place":
        return [name.partition("/")[0]]
    if kind == "actors":
        return [c for c in name.split(">") if len(c) == 2 and c.isupper()]
    if kind == "country":
        return [name]
    return []


def trend_alert(
    s: Spike,
    stories: Sequence[StoryRef],
    window_start: float,
    cfg: TrendConfig,
    source: StoryTerms,
) -> Alert:
    """One alert per (term, window): the id is derived from both, so a replica or replay repeats
    it. It lists the stories behind the spike, newest first."""
    kind, name = describe(s.term)
    started = datetime.fromtimestamp(window_start, UTC)
    text = (
        f"{KIND_LABEL.get(kind, kind)} {name}: {s.current} stories in the "
        f"{cfg.window_s / 60:.0f}-minute window from {started:%Y-%m-%d %H:%M} UTC (event time) vs "
        f"{s.expected:.1f} expected per window over {s.baseline.observed} observed windows "
        f"(p = {s.p_value:.1e}, threshold {cfg.alpha:.0e})"
    )
    listed = list(reversed(stories))[:MAX_STORIES]
    scores = [st.score for st in stories]
    return Alert(
        id=alert_id(f"trend:{s.term}:{int(window_start)}", TREND_RULE),
        rule_id=TREND_RULE,
        rule_description=f"Trend: {text}",
        severity=trend_severity(stories, s, cfg),
        score=round(min(10.0, statistics.median(scores)), 2) if scores else 0.0,
        matches=[
            Match(
                term=st.article_id,
                sentence=f"[{st.severity}] {st.title}" + (f" <{st.url}>" if st.url else ""),
                start=0,
                end=0,
            )
            for st in listed
        ],
        article_id=source.article_id,
        story_id=f"trend:{s.term}:{started.isoformat()}",
        story_articles=max(1, s.current),
        title=f"Trending: {KIND_LABEL.get(kind, kind)} {name}",
        url=source.url,
        countries=term_countries(s.term),
        places=[name.partition(",")[0]] if kind == "place" and "/" in s.term else [],
        entities=[name] if kind == "weapon" else [],
        times=source.times.model_copy(update={"alerted": utcnow()}),
    )
