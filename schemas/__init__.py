"""Event contracts of newswire: one pydantic v2 model per event type, one topic per model."""

from pydantic import BaseModel

from schemas.alert import Alert, Match
from schemas.base import StageTimes
from schemas.deadletter import DeadLetter
from schemas.enriched import (
    Casualty,
    EnrichedArticle,
    Entity,
    KeyPhrase,
    Quantity,
    Sentence,
    Span,
    TimeMention,
    Tone,
)
from schemas.raw import RawArticle
from schemas.tagged import Evidence, Severity, TaggedArticle, Topic

MODELS: dict[str, type[BaseModel]] = {
    "RawArticle": RawArticle,
    "EnrichedArticle": EnrichedArticle,
    "TaggedArticle": TaggedArticle,
    "Alert": Alert,
    "DeadLetter": DeadLetter,
}

__all__ = [
    "MODELS",
    "Alert",
    "Casualty",
    "DeadLetter",
    "EnrichedArticle",
    "Entity",
    "Evidence",
    "KeyPhrase",
    "Match",
    "Quantity",
    "RawArticle",
    "Sentence",
    "Severity",
    "Span",
    "StageTimes",
    "TaggedArticle",
    "TimeMention",
    "Tone",
    "Topic",
]
