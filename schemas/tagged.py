"""`TaggedArticle`: what tagging publishes to `newswire.articles.tagged.v1`."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from schemas.base import Event
from schemas.enriched import EnrichedArticle

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)  # the one severity scale, in rising order
SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}
TrapReason = Literal["negated", "hypothetical", "historical", "metaphor", "peaceful"]


class Evidence(BaseModel):
    """A term found in the text; offsets index `title + "\\n" + body`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Topic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    label: str
    evidence: list[Evidence] = Field(default_factory=list)


class TermWeight(BaseModel):
    """A word or word pair of a sentence and how much it moved the classifier's score."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str
    weight: float


class EventLocation(BaseModel):
    """Where an event happened (GDELT's ActionGeo): the place it hit, not the speaker's country."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Canonical place name, e.g. Kharkiv.")
    kind: str | None = Field(None, description="city, state, region or country.")
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 code of the place.")
    admin1: str | None = Field(
        None, description="First-level subdivision code (of a city, or the state itself)."
    )
    lat: float | None = None
    lon: float | None = None
    ref: str | None = Field(None, description="The gazetteer key of the place ('geonames:<id>').")
    confidence: float = Field(
        ge=0.0,
        le=1.0,
        description="0.9 a place the event's sentence says it hit; 0.6-0.8 a place in the "
        "sentence or its neighbours; 0.5 the event's target country; 0.2-0.3 the article's "
        "main place.",
    )
    source: Literal["sentence", "neighbour", "target", "article"] = Field(
        description="Where it was found: the event's sentence, a neighbouring one, the event's "
        "target, or the article as a whole."
    )
    # location fields (issue 36); an event with no known place has no location (None): unknown
    precision: Literal["town", "admin2", "admin1", "country"] | None = Field(
        None,
        description="ACLED's geo-precision: a town or village, a second- or first-level "
        "subdivision (a state, oblast or named region), or only the country; always set by "
        "tagging (None only in records written before it).",
    )
    evidence: str | None = Field(
        None, description="The place's ambiguity and the choice made (the entity's evidence)."
    )


class EventMention(BaseModel):
    """One event the text reports, with who did it to whom when the sentence says so."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = Field(description="Event type id from the taxonomy, e.g. missile-strike.")
    label: str
    cameo: str | None = Field(None, description="Nearest CAMEO code.")
    trigger: Evidence
    sentence: str
    actor: str | None = Field(None, description="ISO country code (or entity name) of the actor.")
    target: str | None = Field(None, description="ISO country code (or entity name) of the target.")
    detector: Literal["rules", "classifier"] = Field(
        "rules", description="The taxonomy's triggers, or the learned sentence classifier."
    )
    probability: float | None = Field(
        None, ge=0.0, le=1.0, description="The classifier's probability (detector classifier)."
    )
    weights: list[TermWeight] = Field(
        default_factory=list, description="The terms that drove the classifier, strongest first."
    )
    location: EventLocation | None = Field(
        None, description="Where the event happened, when the text says or implies it."
    )


class Suppressed(BaseModel):
    """A term that looked like escalation but sits in a trap (negation, metaphor, ...): kept to explain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    reason: TrapReason
    cue: str = Field(description="The word or phrase that set the trap off.")


class ScoreComponent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        description="event, casualties, weapon, nuclear, state_actor, cross_border or breadth."
    )
    points: float
    detail: str


class TaggedArticle(Event):
    schema_version: Literal[1] = 1
    article: EnrichedArticle
    topics: list[Topic] = Field(default_factory=list)
    events: list[EventMention] = Field(default_factory=list)
    escalation_score: float = Field(0.0, ge=0.0, le=10.0)
    score_components: list[ScoreComponent] = Field(default_factory=list)
    severity: Severity = "low"
    casualties: int | None = Field(None, description="Largest casualty count stated, if any.")
    suppressed: list[Suppressed] = Field(default_factory=list)
    fingerprint: str = Field(
        "",
        description=(
            "64-bit SimHash (hex) for near-duplicate stories, only for an article without "
            "enrichment's MinHash (`article.fingerprint`, which stories use); else empty."
        ),
    )

    @property
    def id(self) -> str:
        return self.article.id
