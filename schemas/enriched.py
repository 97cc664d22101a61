"""`EnrichedArticle`: what enrichment publishes to `newswire.articles.enriched.v1`.

Every offset (`start`, `end`) in this model is a Python string index (Unicode code points,
end exclusive) into `EnrichedArticle.text`, which is `title + "\\n\\n" + body` of the *cleaned*
title and body (HTML stripped, entities decoded, whitespace collapsed, Unicode NFC).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.base import Event, StageTimes

TEXT_SEPARATOR = "\n\n"

_OFFSETS = "Offsets are code-point indices into `text` (= title + '\\n\\n' + body), end exclusive."


class Span(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Entity(BaseModel):
    """A person, organisation, place or weapon system found in the text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["person", "organisation", "place", "weapon", "other"]
    name: str = Field(description="Canonical name.")
    aliases: list[str] = Field(default_factory=list, description="Surface forms matched.")
    mentions: int = Field(ge=1)
    spans: list[Span] = Field(default_factory=list, description=_OFFSETS)
    country: str | None = Field(
        None,
        description="ISO 3166-1 alpha-2 code: where a place is, or whose person/organisation/"
        "weapon it is; None for international bodies such as NATO or the EU.",
    )
    lat: float | None = None
    lon: float | None = None
    kind: str | None = Field(
        None,
        description="Subtype: country, city, state, region for places; role or organisation "
        "kind (alliance, government, militant group...); weapon class.",
    )
    admin1: str | None = Field(
        None, description="First-level subdivision code of a city (US state code for the US)."
    )
    ref: str | None = Field(
        None,
        description="Stable key: 'geonames:<id>', 'iso:<cc>', 'us-state:<code>' or 'data:<file>'.",
    )
    # location fields (issue 36)
    evidence: str | None = Field(
        None,
        description="A place of a shared name: how many places bear it and why this one was "
        "chosen ('3 candidates; country named'); None when the name is unambiguous.",
    )


class Sentence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: int = Field(ge=0, description=_OFFSETS)
    end: int = Field(ge=0)
    polarity: float = Field(
        0.0, ge=-1.0, le=1.0, description="VADER compound score of this sentence alone."
    )


class Quantity(BaseModel):
    """A number in the text with what it counts and, for measures, a normalised unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(description="Surface form, e.g. 'approximately 70 miles'.")
    start: int = Field(ge=0, description=_OFFSETS)
    end: int = Field(ge=0)
    value: float = Field(description="The number as written (70 for '70 miles').")
    unit: str | None = Field(None, description="Unit as written, normalised to singular.")
    counted: str | None = Field(None, description="What is counted: 'missiles', 'days'.")
    normalized_value: float | None = Field(
        None, description="Value in `normalized_unit` (113.0 for 70 miles)."
    )
    normalized_unit: str | None = Field(None, description="SI-ish unit: km, kg, m, USD, %.")
    approximate: bool = Field(False, description="Hedged: nearly, about, approximately, some...")
    qualifier: str | None = Field(None, description="The hedge word as written, lower-case.")
    out_of: float | None = Field(None, description="M of 'N out of M'.")


class Casualty(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["killed", "injured", "missing", "captured", "displaced"]
    count: int = Field(ge=0)
    text: str
    start: int = Field(ge=0, description=_OFFSETS)
    end: int = Field(ge=0)
    approximate: bool = False


class TimeMention(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    start: int = Field(ge=0, description=_OFFSETS)
    end: int = Field(ge=0)
    kind: Literal["date", "weekday", "relative", "month", "year"]
    date: dt.date | None = Field(
        None,
        description="Resolved against times.published (a weekday: the latest such day on or "
        "before publication unless 'next'); None when it cannot be resolved.",
    )


class Tone(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    score: float = Field(
        ge=-1.0, le=1.0, description="Mean VADER compound over sentences (does not saturate)."
    )
    positive: float = Field(
        ge=0.0, description="% of words in VADER's lexicon with positive valence."
    )
    negative: float = Field(
        ge=0.0, description="% of words in VADER's lexicon with negative valence."
    )
    tone: float = Field(description="GDELT-style tone: positive - negative, in % of words.")
    polarity: float = Field(ge=0.0, description="GDELT-style polarity: positive + negative.")


class KeyPhrase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    phrase: str
    score: float = Field(ge=0.0, description="RAKE degree/frequency score summed over words.")
    count: int = Field(ge=1)


class EnrichedArticle(Event):
    """An article with the facts enrichment found. See `text` for what the offsets refer to."""

    schema_version: Literal[1] = 1
    id: str
    title: str = Field(description="Cleaned title: HTML stripped, entities decoded, NFC.")
    body: str = Field(description="Cleaned body: HTML stripped, paragraphs kept as '\\n', NFC.")
    url: str | None = None
    source: str | None = None
    language: str = Field(description="ISO 639-1 code, or 'und'.")
    language_confidence: float = Field(ge=0.0, le=1.0)
    language_declared: str | None = Field(
        None, description="Language the source declared, if any (detection still runs)."
    )
    entities: list[Entity] = Field(default_factory=list)
    countries: list[str] = Field(
        default_factory=list, description="ISO codes, most mentioned first."
    )
    word_count: int = Field(ge=0)
    sentence_count: int = Field(0, ge=0)
    reading_time_s: int = Field(0, ge=0, description="At 238 words per minute.")
    sentences: list[Sentence] = Field(default_factory=list)
    quantities: list[Quantity] = Field(default_factory=list)
    casualties: list[Casualty] = Field(default_factory=list)
    time_mentions: list[TimeMention] = Field(default_factory=list)
    tone: Tone | None = None
    key_phrases: list[KeyPhrase] = Field(default_factory=list)
    fingerprint: list[int] = Field(
        default_factory=list,
        description="Bottom-k MinHash for near-duplicate clustering: the k=64 smallest 32-bit "
        "hashes of the lower-cased word 3-shingles of `text`, ascending. Jaccard(A, B) is "
        "estimated as |S(A) & S(B) & bottom-k(S(A) | S(B))| / k; >= 0.5 means same story.",
    )
    times: StageTimes

    @property
    def text(self) -> str:
        """The string every offset refers to; not serialised, rebuild it as title + '\\n\\n' + body."""
        return self.title + TEXT_SEPARATOR + self.body
