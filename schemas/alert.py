"""`Alert`: what alerts publishes to `newswire.alerts.v1` and delivers to Redis."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.base import Event, StageTimes
from schemas.tagged import EventLocation, EventMention, ScoreComponent, Severity


class Match(BaseModel):
    """A rule term (or event trigger) as found, with the sentence it appears in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str
    sentence: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Alert(Event):
    schema_version: Literal[1] = 1
    id: str = Field(description="Deterministic: (story id, rule id, severity, alert number).")
    rule_id: str
    rule_description: str
    severity: Severity
    previous_severity: Severity | None = Field(
        None, description="Set when this alert re-alerts a story whose severity rose."
    )
    score: float = Field(ge=0.0, le=10.0)
    score_components: list[ScoreComponent] = Field(default_factory=list)
    events: list[EventMention] = Field(default_factory=list)
    matches: list[Match]
    article_id: str
    story_id: str
    story_articles: int = Field(1, ge=1, description="Articles seen in the story so far.")
    origins: int = Field(
        1,
        ge=1,
        description="Independent sources behind the story so far: a wire story reprinted by many "
        "outlets, one outlet's updates and near-identical copies count once.",
    )
    title: str
    url: str | None = None
    countries: list[str] = Field(
        default_factory=list,
        description="Where the event happened: the event location's country (what country "
        "channels and subscriptions match); the countries concerned when no place is known.",
    )
    countries_mentioned: list[str] = Field(
        default_factory=list,
        description="Every country the article mentions, most mentioned first.",
    )
    event_location: EventLocation | None = Field(
        None, description="Where the story's event happened (GDELT ActionGeo)."
    )
    places: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list, description="Extra channels the rule names.")
    times: StageTimes
