"""`EnrichedArticle`: what enrichment publishes to `newswire.articles.enriched.v1`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.base import Event, StageTimes


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
    spans: list[Span] = Field(default_factory=list)
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 code for places.")
    lat: float | None = None
    lon: float | None = None


class EnrichedArticle(Event):
    schema_version: Literal[1] = 1
    id: str
    title: str
    body: str
    url: str | None = None
    source: str | None = None
    language: str = Field(description="ISO 639-1 code, or 'und'.")
    language_confidence: float = Field(ge=0.0, le=1.0)
    entities: list[Entity] = Field(default_factory=list)
    countries: list[str] = Field(
        default_factory=list, description="ISO codes, most mentioned first."
    )
    word_count: int = Field(ge=0)
    times: StageTimes
