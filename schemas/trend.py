"""`TrendTerm`: one term of an article that opened a story, re-keyed by the term for counting."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import Event, StageTimes


class TrendTerm(Event):
    """Only what a trend alert quotes: the whole tagged article per term would multiply the bytes
    on the topic by the number of terms (tens per article)."""

    schema_version: Literal[1] = 1
    term: str = Field(description="`topic:`, `event:`, `country:` or `entity:` and a name.")
    article_id: str = Field(description="The article that opened the story.")
    url: str | None = None
    times: StageTimes = Field(default_factory=StageTimes)

    @property
    def partition_key(self) -> str:
        """Keyed by the term, so one worker counts each term."""
        return self.term
