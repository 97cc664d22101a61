"""Pure enrichment: `enrich(raw) -> EnrichedArticle`. Data files under `data/`; no I/O per article."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from schemas import EnrichedArticle, Entity, RawArticle, Span, StageTimes
from schemas.base import utcnow

DATA = Path(__file__).parent / "data"

_NAME = re.compile(
    r"\b(?:[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?)(?:\s+[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?)+\b"
)
_WORD = re.compile(r"\w+")
_EN_STOP = frozenset(
    [
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "is",
        "that",
        "for",
        "on",
        "with",
        "as",
        "was",
        "by",
        "at",
        "from",
        "it",
        "be",
        "are",
        "this",
    ]
)


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Gazetteer:
    pattern: re.Pattern[str]
    by_surface: dict[str, Country]


@lru_cache(maxsize=1)
def load_gazetteer(path: Path = DATA / "countries.csv") -> Gazetteer:
    by_surface: dict[str, Country] = {}
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            c = Country(row["code"], row["name"], float(row["lat"]), float(row["lon"]))
            for surface in [row["name"], *row["aliases"].split("|"), *row["demonyms"].split("|")]:
                if surface:
                    by_surface[surface] = c
    alternatives = sorted(by_surface, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(a) for a in alternatives) + r")(?!\w)")
    return Gazetteer(pattern, by_surface)


def detect_language(text: str) -> tuple[str, float]:
    words = _WORD.findall(text.lower()[:2000])
    if not words:
        return "und", 0.0
    share = sum(w in _EN_STOP for w in words) / len(words)
    return ("en", min(1.0, share * 4)) if share > 0.08 else ("und", 0.0)


def _places(text: str, gaz: Gazetteer) -> list[Entity]:
    hits: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for m in gaz.pattern.finditer(text):
        hits[gaz.by_surface[m.group(0)].code].append((m.group(0), m.start(), m.end()))
    out = []
    for found in hits.values():
        c = gaz.by_surface[found[0][0]]
        out.append(
            Entity(
                type="place",
                name=c.name,
                aliases=sorted({s for s, _, _ in found}),
                mentions=len(found),
                spans=[Span(start=a, end=b) for _, a, b in found],
                country=c.code,
                lat=c.lat,
                lon=c.lon,
            )
        )
    return sorted(out, key=lambda e: -e.mentions)


def _names(text: str, gaz: Gazetteer) -> list[Entity]:
    spans: dict[str, list[Span]] = defaultdict(list)
    for m in _NAME.finditer(text):
        if m.group(0) in gaz.by_surface:
            continue
        spans[m.group(0)].append(Span(start=m.start(), end=m.end()))
    return [
        Entity(type="other", name=n, aliases=[n], mentions=len(s), spans=s)
        for n, s in spans.items()
    ]


def enrich(raw: RawArticle) -> EnrichedArticle:
    text = f"{raw.title}\n{raw.body}"
    gaz = load_gazetteer()
    lang, conf = detect_language(text)
    places = _places(text, gaz)
    counts = Counter({e.country: e.mentions for e in places if e.country})
    return EnrichedArticle(
        id=raw.id,
        title=raw.title,
        body=raw.body,
        url=raw.url,
        source=raw.source,
        language=raw.language or lang,
        language_confidence=1.0 if raw.language else conf,
        entities=[*places, *_names(text, gaz)],
        countries=[c for c, _ in counts.most_common()],
        word_count=len(_WORD.findall(text)),
        times=StageTimes(**{**raw.times.model_dump(), "enriched": utcnow()}),
    )
