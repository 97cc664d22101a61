"""`DeadLetter`: a record a stage could not process, kept whole with the reason."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from schemas.base import Event, utcnow

# Kafka headers of a dead-letter record, and of a record `newswire dlq replay` puts back on its
# topic: declared here once for the stages, the DLQ tools and the AsyncAPI document.
H_STAGE = "newswire.stage"
H_TOPIC = "newswire.original.topic"
H_PARTITION = "newswire.original.partition"
H_OFFSET = "newswire.original.offset"
H_TIMESTAMP = "newswire.original.timestamp"
H_ERROR_CLASS = "newswire.error.class"
H_ERROR = "newswire.error.message"
H_ATTEMPTS = "newswire.attempts"
H_REPLAYED = "newswire.replayed"
DEAD_LETTER_HEADERS: dict[str, str] = {
    H_STAGE: "The stage that could not process the record.",
    H_TOPIC: "The record's original topic.",
    H_PARTITION: "Its partition.",
    H_OFFSET: "Its offset.",
    H_TIMESTAMP: "Its timestamp (epoch milliseconds), when it had one.",
    H_ERROR_CLASS: "The exception's class.",
    H_ERROR: "The exception's message.",
    H_ATTEMPTS: "How many times a stage has failed on this record (replays included).",
    H_REPLAYED: "On a replayed record: the dead letter it came from (partition@offset).",
}


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
