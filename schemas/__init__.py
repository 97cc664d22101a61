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
from schemas.story import Alerted, Story
from schemas.subscription import Digest, Subscription, Target
from schemas.tagged import (
    SEVERITIES,
    SEVERITY_RANK,
    EventLocation,
    EventMention,
    Evidence,
    ScoreComponent,
    Severity,
    Suppressed,
    TaggedArticle,
    TermWeight,
    Topic,
)
from schemas.trend import StoryTerms

MODELS: dict[str, type[BaseModel]] = {
    "RawArticle": RawArticle,
    "EnrichedArticle": EnrichedArticle,
    "TaggedArticle": TaggedArticle,
    "Alert": Alert,
    "DeadLetter": DeadLetter,
    "StoryTerms": StoryTerms,
}

__all__ = [
    "MODELS",
    "SEVERITIES",
    "SEVERITY_RANK",
    "Alert",
    "Alerted",
    "Casualty",
    "DeadLetter",
    "Digest",
    "EnrichedArticle",
    "Entity",
    "EventLocation",
    "EventMention",
    "Evidence",
    "KeyPhrase",
    "Match",
    "Quantity",
    "RawArticle",
    "ScoreComponent",
    "Sentence",
    "Severity",
    "Span",
    "StageTimes",
    "Story",
    "StoryTerms",
    "Subscription",
    "Suppressed",
    "TaggedArticle",
    "Target",
    "TermWeight",
    "TimeMention",
    "Tone",
    "Topic",
]
