"""`RawArticle`: what ingest publishes to `newswire.articles.raw.v1`.

Every field has a cap, so no input path can put an unbounded string on the topic (a 900 KB
`source` once could), and the one-line fields shown to people (title, source) lose the invisible
characters that reorder or hide text in chat, e-mail and terminals (bidi controls, zero-width
characters): the same rules for HTTP, replays and feeds, because they are the contract's.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from schemas.base import Event, StageTimes
from schemas.ids import article_id

MAX_TITLE = 2000
MAX_BODY = 100_000  # characters: ~15,000 words, far above any news article; <= 400 KB as UTF-8
MAX_URL = 4096
MAX_SOURCE = 200
MAX_LANGUAGE = 35  # the longest BCP 47 tag in practical use

# Bidi embeddings, overrides, isolates and marks; zero-width space, (non-)joiner, word joiner,
# invisible operators and the byte-order mark.
INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def strip_invisible(text: str) -> str:
    """`text` without bidi controls and zero-width characters (they carry no meaning in a title)."""
    return INVISIBLE.sub("", text)


class RawArticle(Event):
    schema_version: Literal[1] = 1
    id: str = Field("", description="Deterministic: from canonical URL, else normalised content.")
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    body: str = Field(min_length=1, max_length=MAX_BODY)
    url: str | None = Field(None, max_length=MAX_URL)
    source: str | None = Field(
        None, max_length=MAX_SOURCE, description="Feed, file or client the article came from."
    )
    language: str | None = Field(
        None, max_length=MAX_LANGUAGE, description="Declared language, if the source gives one."
    )
    client: str | None = Field(
        None,
        max_length=MAX_SOURCE,
        description="Authenticated ingest client that sent it (HTTP); None for replays and feeds. "
        "Set by ingest, never by the client.",
    )
    times: StageTimes = Field(default_factory=StageTimes)

    @field_validator("title", "source", "client", mode="before")
    @classmethod
    def _visible(cls, value: Any) -> Any:
        return strip_invisible(value) if isinstance(value, str) else value

    @field_validator("url")
    @classmethod
    def _parseable(cls, value: str | None) -> str | None:
        # The id is derived from the URL: one that cannot be split must fail here, naming it.
        if value is not None:
            try:
                _ = urlsplit(value).port
            except ValueError as exc:
                raise ValueError(f"not a URL ({exc})") from None
        return value

    @model_validator(mode="after")
    def _fill_id(self) -> RawArticle:
        # Always derived, never trusted from the client: replays must map to the same id.
        object.__setattr__(self, "id", article_id(self.url, self.title, self.body))
        return self
