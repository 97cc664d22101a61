"""`Alert`: what alerts publishes to `newswire.alerts.v1` and delivers to Redis."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.base import Event, StageTimes
from schemas.tagged import Severity


class Match(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str
    sentence: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Alert(Event):
    schema_version: Literal[1] = 1
    id: str = Field(description="Deterministic: (article or story id, rule id).")
    rule_id: str
    rule_description: str
    severity: Severity
    score: float = Field(ge=0.0, le=10.0)
    matches: list[Match]
    article_id: str
    story_id: str
    title: str
    url: str | None = None
    countries: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    times: StageTimes
