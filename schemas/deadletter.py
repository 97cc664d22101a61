"""`DeadLetter`: a record a stage could not process, kept whole with the reason."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from schemas.base import Event, utcnow


class DeadLetter(Event):
    schema_version: Literal[1] = 1
    stage: str = Field(description="ingest, enrichment, tagging, alerts or trends.")
    topic: str
    partition: int | None = None
    offset: int | None = None
    timestamp: datetime | None = Field(None, description="Original record's timestamp.")
    key: str | None = Field(None, description="Original key, base64.")
    value: str = Field(description="Original bytes, base64.")
    error_class: str
    error: str
    attempts: int = Field(
        1,
        ge=1,
        description="Times this record failed (a replayed dead letter that fails again: +1).",
    )
    failed_at: datetime = Field(default_factory=utcnow)
