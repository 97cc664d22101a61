"""`StoryTerms`: the terms of one article that opened a story, for the trends worker to count."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import Event, StageTimes
from schemas.tagged import Severity


class StoryTerms(Event):
    """One record per story-opening article, not one per term: an article has ~50 terms, and a
    record per term (plus a table changelog record per count) was most of Kafka's work
    (docs/benchmarks.md). Counting is shared by all trends replicas in Redis, so nothing needs
    re-keying by term. Every story-opening article sends one, escalating or not: the trends worker
    counts every story in its window (so it knows which windows it observed) and counts the terms
    of those its trends file says (docs/trends.md). The fields after `terms` came with event-time
    trends; older records without them still parse."""

    schema_version: Literal[1] = 1
    article_id: str = Field(description="The article that opened the story; the record key.")
    url: str | None = None
    terms: list[str] = Field(
        description="`kind:name`, each once, sorted. Kinds: `place:` (where an event happened: "
        "`CC`, and `CC/area` when the event's location names one), `actors:` (`actor>target` of an "
        "event), `weapon:` (a named weapon system), `event:` (an event type), `country:` (any "
        "country named), `topic:`, `entity:` (a person or organisation named)."
    )
    times: StageTimes = Field(default_factory=StageTimes)
    title: str = Field("", description="The article's title, for the stories listed in an alert.")
    events: list[str] = Field(
        default_factory=list, description="Event types of the article (taxonomy ids), each once."
    )
    severity: Severity = Field("low", description="The article's severity from tagging.")
    score: float = Field(0.0, ge=0.0, le=10.0, description="The article's escalation score.")

    @property
    def id(self) -> str:
        return self.article_id
