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
FrameAxis = Literal["asserted", "current", "literal", "hostile"]
FRAME_AXES: tuple[FrameAxis, ...] = get_args(FrameAxis)
Genre = Literal[
    "news",
    "review",
    "sport",
    "business",
    "weather",
    "justice",
    "commemoration",
    "opinion",
    "fact-check",
]


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


class FrameCheck(BaseModel):
    """One axis of an event's frame: its label and the evidence that decided it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ok: bool = Field(description="Whether the event passes this axis (counts for alerts).")
    label: str = Field(
        description="What the axis found: asserted | negated | hypothetical | planned | "
        "fact-check; current | historical | justice; literal | metaphor | fiction | sport; "
        "hostile | peaceful | disaster | accident | test."
    )
    cue: str = Field("", description="The word or phrase that decided it (empty: none found).")
    start: int | None = Field(None, ge=0, description="Where the cue stands in the text.")
    reason: str = Field("", description="Why, in a few words.")


class EventFrame(BaseModel):
    """How the text frames an event: said to happen (asserted), now (current), for real
    (literal) and by an armed actor or weapon (hostile). An event alerts only when all four pass."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    asserted: FrameCheck
    current: FrameCheck
    literal: FrameCheck
    hostile: FrameCheck

    @property
    def failed(self) -> list[FrameAxis]:
        return [a for a in FRAME_AXES if not getattr(self, a).ok]

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def trap_free(self) -> bool:
        """Failed on other evidence than a sentence trap (which the score already left out)."""
        return any(getattr(self, a).reason != "trap" for a in self.failed)


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
    frame: EventFrame | None = Field(
        None, description="Asserted, current, literal, hostile: each with its evidence."
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
    suppressed_events: list[EventMention] = Field(
        default_factory=list,
        description="Candidate events whose frame failed (see `frame`): kept to explain, never "
        "counted by alert rules or the score.",
    )
    genre: Genre = Field("news", description="The article's genre, decided once per article.")
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
