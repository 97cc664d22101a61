"""Shared pieces of every event: version, stage timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


class StageTimes(BaseModel):
    """When the article passed each stage, so latency can be measured from the data itself."""

    model_config = ConfigDict(extra="forbid")

    published: datetime | None = Field(None, description="Publication time given by the source.")
    ingested: datetime | None = None
    enriched: datetime | None = None
    tagged: datetime | None = None
    alerted: datetime | None = None


class Event(BaseModel):
    """Base of every event on a topic; unknown fields are rejected so contract drift is loud."""

    model_config = ConfigDict(extra="forbid", frozen=True)
