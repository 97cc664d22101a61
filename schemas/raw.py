"""`RawArticle`: what ingest publishes to `newswire.articles.raw.v1`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from schemas.base import Event, StageTimes
from schemas.ids import article_id


class RawArticle(Event):
    schema_version: Literal[1] = 1
    id: str = Field("", description="Deterministic: from canonical URL, else normalised content.")
    title: str = Field(min_length=1, max_length=2000)
    body: str = Field(min_length=1)
    url: str | None = Field(None, max_length=4096)
    source: str | None = Field(None, description="Feed, file or client the article came from.")
    language: str | None = Field(None, description="Declared language, if the source gives one.")
    times: StageTimes = Field(default_factory=StageTimes)

    @model_validator(mode="after")
    def _fill_id(self) -> RawArticle:
        # Always derived, never trusted from the client: replays must map to the same id.
        object.__setattr__(self, "id", article_id(self.url, self.title, self.body))
        return self
