"""`TaggedArticle`: what tagging publishes to `newswire.articles.tagged.v1`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.base import Event
from schemas.enriched import EnrichedArticle

Severity = Literal["low", "medium", "high", "critical"]


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Topic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    label: str
    evidence: list[Evidence] = Field(default_factory=list)


class TaggedArticle(Event):
    schema_version: Literal[1] = 1
    article: EnrichedArticle
    topics: list[Topic] = Field(default_factory=list)
    escalation_score: float = Field(0.0, ge=0.0, le=10.0)
    severity: Severity = "low"

    @property
    def id(self) -> str:
        return self.article.id
