"""`StoryTerms`: the terms of one article that opened a story, for the trends worker to count."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import Event, StageTimes


class StoryTerms(Event):
    """One record per story-opening article, not one per term: an article has ~50 terms, and a
    record per term (plus a table changelog record per count) was most of Kafka's work
    (docs/benchmarks.md). Counting is shared by all trends replicas in Redis, so nothing needs
    re-keying by term."""

    schema_version: Literal[1] = 1
    article_id: str = Field(description="The article that opened the story; the record key.")
    url: str | None = None
    terms: list[str] = Field(
        description="`topic:`, `event:`, `country:` or `entity:` and a name; each once, sorted."
    )
    times: StageTimes = Field(default_factory=StageTimes)

    @property
    def id(self) -> str:
        return self.article_id
