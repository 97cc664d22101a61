"""Pure tagging: `tag(enriched) -> TaggedArticle`, driven by the taxonomy data file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from schemas import EnrichedArticle, Evidence, Severity, StageTimes, TaggedArticle, Topic
from schemas.base import utcnow

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class TopicDef:
    id: str
    label: str
    weight: float
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Taxonomy:
    topics: tuple[TopicDef, ...]
    thresholds: tuple[tuple[float, Severity], ...]


def _terms_pattern(terms: list[str]) -> re.Pattern[str]:
    alts = sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(a) for a in alts) + r")(?!\w)", re.I)


@lru_cache(maxsize=4)
def load_taxonomy(path: Path = DATA / "taxonomy.yaml") -> Taxonomy:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    topics = tuple(
        TopicDef(tid, t["label"], float(t.get("weight", 0.0)), _terms_pattern(t["terms"]))
        for tid, t in doc["topics"].items()
    )
    sev = doc.get("severity", {})
    thresholds: tuple[tuple[float, Severity], ...] = (
        (float(sev.get("critical", 8.5)), "critical"),
        (float(sev.get("high", 6.0)), "high"),
        (float(sev.get("medium", 3.0)), "medium"),
    )
    return Taxonomy(topics, thresholds)


def severity_for(score: float, taxonomy: Taxonomy) -> Severity:
    for bound, name in taxonomy.thresholds:
        if score >= bound:
            return name
    return "low"


def tag(article: EnrichedArticle, taxonomy: Taxonomy | None = None) -> TaggedArticle:
    tax = taxonomy or load_taxonomy()
    text = f"{article.title}\n{article.body}"
    topics: list[Topic] = []
    score = 0.0
    for t in tax.topics:
        ev = [
            Evidence(term=m.group(0), start=m.start(), end=m.end())
            for m in t.pattern.finditer(text)
        ]
        if ev:
            topics.append(Topic(id=t.id, label=t.label, evidence=ev))
            score += t.weight
    score = min(10.0, score)
    times = StageTimes(**{**article.times.model_dump(), "tagged": utcnow()})
    return TaggedArticle(
        article=article.model_copy(update={"times": times}),
        topics=topics,
        escalation_score=round(score, 2),
        severity=severity_for(score, tax),
    )
