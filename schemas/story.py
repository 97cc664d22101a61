"""`Story`: the record of an open story, written by the alerts stage (Redis, `<prefix>:story:<id>`)
and read by the dashboard.

Readable field names in Python; a compact encoding in Redis (two-letter keys, hashes in hex,
what a rule alerted as a short list), because every open story keeps one record: the aliases
below are that encoding, and the records written before this model existed read unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_serializer,
    model_validator,
)

from schemas.tagged import EventLocation, Severity

_ALERTED = ("severity", "at", "number", "article", "previous")


class Alerted(BaseModel):
    """What one rule last alerted in a story; in Redis `[severity, at, number, article]`, with the
    severity it rose from as a fifth item when it was a band rise."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: Severity
    at: dt.datetime
    number: int = Field(ge=0, description="The rule's alert number in the story (a new window).")
    article: str = Field("", description="The article that raised it: its redelivery raises it.")
    previous: Severity | None = Field(None, description="The severity it rose from.")

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return dict(zip(_ALERTED, value, strict=False))
        return value

    @model_serializer
    def _to_list(self) -> list[Any]:
        out: list[Any] = [self.severity, self.at.isoformat(), self.number, self.article]
        return [*out, self.previous] if self.previous is not None else out


class Story(BaseModel):
    """An open story: what the next article is compared with, and what it already alerted."""

    model_config = ConfigDict(
        extra="ignore", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )

    id: str = Field(description="The id of the article that opened the story.")
    first_seen: dt.datetime = Field(alias="f")
    last_seen: dt.datetime = Field(alias="l")
    types: list[str] = Field(alias="t", description="Event types of its articles.")
    location: EventLocation | None = Field(None, alias="loc", description="Its most precise place.")
    day: dt.date | None = Field(None, alias="d", description="The event's date, when given.")
    casualties: int | None = Field(None, alias="c", description="The highest toll reported.")
    actors: list[str] = Field(default_factory=list, alias="ac")
    sketches: list[tuple[int, ...]] = Field(
        default_factory=list, alias="sk", description="MinHash sketches (in Redis: 8 hex a hash)."
    )
    fingerprints: list[int] = Field(
        default_factory=list, alias="fp", description="SimHashes (in Redis: 16 hex each)."
    )
    articles: int = Field(1, ge=0, alias="n", description="How many articles it holds.")
    alerted: dict[str, Alerted] = Field(default_factory=dict, alias="al", description="By rule.")
    history: list[tuple[Severity, dt.datetime]] = Field(
        default_factory=list, alias="h", description="Its severity rises: (severity, when)."
    )
    tagged: bool = Field(
        True, alias="tg", description="An article of a language tagging reads is in it."
    )
    origins: int | None = Field(
        None,
        ge=0,
        alias="o",
        description="Independent sources among its articles (copies are one); records written "
        "before origins were counted have none: read them as one.",
    )
    origin_marks: list[str] | None = Field(
        None,
        alias="om",
        max_length=64,
        description="Hex marks of its first origins (services/alerts/origins.py), bounded.",
    )

    @field_validator("sketches", mode="before")
    @classmethod
    def _sketches_from_hex(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [
                tuple(int(s[i : i + 8], 16) for i in range(0, len(s), 8))
                if isinstance(s, str)
                else s
                for s in value
            ]
        return value

    @field_serializer("sketches")
    def _sketches_to_hex(self, value: list[tuple[int, ...]]) -> list[str]:
        return ["".join(f"{h:08x}" for h in s) for s in value]

    @field_validator("fingerprints", mode="before")
    @classmethod
    def _fingerprints_from_hex(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [int(f, 16) if isinstance(f, str) else f for f in value]
        return value

    @field_serializer("fingerprints")
    def _fingerprints_to_hex(self, value: list[int]) -> list[str]:
        return [f"{f:016x}" for f in value]

    def encode(self) -> str:
        """The compact JSON kept in Redis."""
        return self.model_dump_json(exclude_none=True)
