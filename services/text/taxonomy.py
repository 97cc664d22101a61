"""The taxonomy: topics, event types, weapon classes, casualty words, score parts, severity bounds
and traps, from one data file validated when it loads, with `file:line` errors.

`TaxonomyFile` is the file's schema (what a new event type or trap must provide); `Taxonomy` is
the compiled form that tagging and alerts read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas import Severity
from services.text.datafile import DataFileError, read_located
from services.text.phrases import Phrases, phrase_regex

DATA = Path(__file__).parent / "data"
Pattern = Phrases


def _check_phrases(v: list[str]) -> list[str]:
    for p in v:
        phrase_regex(p.strip())  # raises ValueError naming the phrase
    return v


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Terms = list[str]


class _Phrases(_Spec):
    @field_validator("*", mode="after")
    @classmethod
    def _phrases(cls, v: Any) -> Any:
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            _check_phrases(v)
        elif isinstance(v, dict):
            for x in v.values():
                if isinstance(x, list):
                    _check_phrases(x)
        return v


class TopicSpec(_Phrases):
    label: str = Field(min_length=1)
    terms: Terms = Field(min_length=1)


class EventSpec(_Phrases):
    label: str = Field(min_length=1)
    cameo: str | None = None
    weight: float = Field(ge=-10.0, le=10.0)
    modal: bool = Field(False, description="The event is itself about the future (threats).")
    triggers: Terms = Field(min_length=1)
    refine: dict[str, Terms] = Field(default_factory=dict)
    requires: Terms | None = None
    exclude: Terms | None = None
    unless: Terms | None = Field(None, description="Words that, in the sentence, cancel the event.")


class WeaponSpec(_Phrases):
    weight: float
    terms: Terms = Field(min_length=1)


class CasualtySpec(_Phrases):
    terms: Terms = Field(min_length=1)
    number_words: dict[str, int] = Field(default_factory=dict)


class NuclearScore(_Spec):
    weight: float
    events: list[str]


class BreadthScore(_Spec):
    weight: float
    min_types: int = Field(ge=1)


class ScoreSpec(_Spec):
    nuclear_language: NuclearScore
    state_actor: float
    cross_border: float
    breadth: BreadthScore
    casualties: list[tuple[int, float]] = Field(min_length=1)


class SeveritySpec(_Spec):
    medium: float = 3.0
    high: float = 5.5
    critical: float = 8.0


class NegationSpec(_Phrases):
    window: int = Field(ge=1)
    cues: Terms = Field(min_length=1)


class HypotheticalSpec(_Phrases):
    window: int = Field(ge=1)
    after: Terms = Field(min_length=1)
    after_window: int = Field(ge=1)
    cues: Terms = Field(min_length=1)


class HistoricalSpec(_Phrases):
    years_back: int = Field(ge=1)
    cues: Terms = Field(min_length=1)


class MetaphorSpec(_Phrases):
    phrases: Terms = Field(min_length=1)
    context: Terms = Field(min_length=1)
    hard: Terms = Field(min_length=1)


class PeacefulSpec(_Phrases):
    context: Terms = Field(min_length=1)
    phrases: Terms = Field(min_length=1)


class ClassifierSpec(_Spec):
    """The learned sentence classifier as a second detector (services/text/classifier.py)."""

    enabled: bool = True
    min_probability: float = Field(0.8, ge=0.0, le=1.0)
    event: str = Field("attack", description="Its event type, refined by the sentence's weapon.")
    requires: Terms | None = Field(None, description="Words one of which the sentence must hold.")


class TrapsSpec(_Spec):
    negation: NegationSpec
    hypothetical: HypotheticalSpec
    historical: HistoricalSpec
    metaphor: MetaphorSpec
    peaceful: PeacefulSpec


class TaxonomyFile(_Spec):
    """The taxonomy data file (services/text/data/taxonomy.yaml)."""

    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    topics: dict[str, TopicSpec] = Field(min_length=1)
    armed_context: Terms | None = Field(None, description="A YAML anchor the events refer to.")
    contexts: dict[str, Terms] = Field(
        default_factory=dict, description="Named word lists (YAML anchors) the events refer to."
    )
    events: dict[str, EventSpec] = Field(min_length=1)
    weapons: dict[str, WeaponSpec]
    casualties: CasualtySpec
    score: ScoreSpec
    severity: SeveritySpec = Field(default_factory=SeveritySpec)
    traps: TrapsSpec
    classifier: ClassifierSpec = Field(default_factory=ClassifierSpec)


def _pattern(terms: list[str]) -> Pattern:
    return Phrases.of(terms)


@dataclass(frozen=True)
class TopicDef:
    id: str
    label: str
    pattern: Pattern


@dataclass(frozen=True)
class EventDef:
    id: str
    label: str
    cameo: str | None
    weight: float
    modal: bool
    pattern: Pattern
    refine: tuple[tuple[str, Pattern], ...] = ()
    requires: Pattern | None = None
    exclude: Pattern | None = None
    unless: Pattern | None = None


@dataclass(frozen=True)
class Traps:
    negation: Pattern
    negation_window: int
    hypothetical: Pattern
    hypothetical_window: int
    hypothetical_after: Pattern
    hypothetical_after_window: int
    historical: Pattern
    years_back: int
    metaphor_phrases: Pattern
    metaphor_context: Pattern
    metaphor_hard: Pattern
    peaceful: Pattern
    peaceful_context: Pattern

    @cached_property
    def window_checks(self) -> tuple[re.Pattern[str] | None, ...]:
        """For negation, hypothetical and hypothetical_after: a pattern that finds every place of
        an ASCII sentence where one of the cue phrases could start in a window of its words."""
        return tuple(
            _start_check(p) for p in (self.negation, self.hypothetical, self.hypothetical_after)
        )


def _start_check(phrases: Pattern) -> re.Pattern[str] | None:
    """A phrase match in a window starts at a window word (a lower-cased token of the sentence,
    possibly cut short, or the "n't" added after one) or after an apostrophe inside one: the
    literal start of the phrase's first word is then at a word start of the lower-cased sentence
    (or inside its "n't"). A sentence where none occurs cannot set off the trap. None when an
    anchor is empty or not plain ASCII letters (no such check)."""
    anchors = phrases.anchors
    if not anchors or any(not a or not a.isascii() or not a[0].isalnum() for a in anchors):
        return None
    # the anchors grouped by first character, the look-behind after it: a pattern that starts
    # with a character set is scanned by the regex engine's fast prefix search
    by_first: dict[str, list[str]] = {}
    for a in sorted(anchors, key=len, reverse=True):  # longest first, so the widest match wins
        by_first.setdefault(a[0], []).append(a)
    alts = "|".join(
        re.escape(c) + r"(?<!\w.)(?:" + "|".join(re.escape(a[1:]) for a in group) + ")"
        for c, group in sorted(by_first.items())
    )
    return re.compile(r"(?:" + alts + ")")


@dataclass(frozen=True)
class Taxonomy:
    topics: tuple[TopicDef, ...]
    events: tuple[EventDef, ...]
    weapons: tuple[tuple[str, float, Pattern], ...]
    casualty: Pattern
    number_words: dict[str, int]
    score: dict[str, Any]
    casualty_points: tuple[tuple[int, float], ...]
    thresholds: tuple[tuple[float, Severity], ...]
    traps: Traps
    languages: frozenset[str] = frozenset({"en"})
    classifier: ClassifierSpec | None = None
    classifier_requires: Pattern | None = None


@lru_cache(maxsize=4)
def load_taxonomy(path: Path = DATA / "taxonomy.yaml") -> Taxonomy:
    """The taxonomy file, validated (`DataFileError` with `file:line` for every problem) and
    compiled; cached, since tagging and alerts both load it at start-up."""
    located = read_located(path)
    spec = located.validate(TaxonomyFile)
    events = set(spec.events)
    problems = [
        located.problem(("events", eid, "refine", target), f"unknown event type {target!r}")
        for eid, e in spec.events.items()
        for target in e.refine
        if target not in events
    ]
    if spec.classifier.event not in events:
        problems.append(
            located.problem(
                ("classifier", "event"), f"unknown event type {spec.classifier.event!r}"
            )
        )
    score_events = spec.score.nuclear_language.events
    problems += [
        located.problem(("score", "nuclear_language", "events", k), f"unknown event type {ev!r}")
        for k, ev in enumerate(score_events)
        if ev not in events
    ]
    if problems:
        raise DataFileError(problems)
    return compile_taxonomy(spec)


def compile_taxonomy(spec: TaxonomyFile) -> Taxonomy:
    traps, sev, score = spec.traps, spec.severity, spec.score
    return Taxonomy(
        languages=frozenset(spec.languages),
        topics=tuple(TopicDef(tid, t.label, _pattern(t.terms)) for tid, t in spec.topics.items()),
        events=tuple(
            EventDef(
                eid,
                e.label,
                e.cameo,
                e.weight,
                e.modal,
                _pattern(e.triggers),
                tuple((rid, _pattern(terms)) for rid, terms in e.refine.items()),
                _pattern(e.requires) if e.requires else None,
                _pattern(e.exclude) if e.exclude else None,
                _pattern(e.unless) if e.unless else None,
            )
            for eid, e in spec.events.items()
        ),
        weapons=tuple((wid, w.weight, _pattern(w.terms)) for wid, w in spec.weapons.items()),
        casualty=_pattern(spec.casualties.terms),
        number_words=dict(spec.casualties.number_words),
        score=score.model_dump(),
        casualty_points=tuple((int(a), float(b)) for a, b in score.casualties),
        thresholds=((sev.critical, "critical"), (sev.high, "high"), (sev.medium, "medium")),
        traps=Traps(
            negation=_pattern(traps.negation.cues),
            negation_window=traps.negation.window,
            hypothetical=_pattern(traps.hypothetical.cues),
            hypothetical_window=traps.hypothetical.window,
            hypothetical_after=_pattern(traps.hypothetical.after),
            hypothetical_after_window=traps.hypothetical.after_window,
            historical=_pattern(traps.historical.cues),
            years_back=traps.historical.years_back,
            metaphor_phrases=_pattern(traps.metaphor.phrases),
            metaphor_context=_pattern(traps.metaphor.context),
            metaphor_hard=_pattern(traps.metaphor.hard),
            peaceful=_pattern(traps.peaceful.phrases),
            peaceful_context=_pattern(traps.peaceful.context),
        ),
        classifier=spec.classifier if spec.classifier.enabled else None,
        classifier_requires=_pattern(spec.classifier.requires)
        if spec.classifier.requires
        else None,
    )


def severity_for(score: float, taxonomy: Taxonomy) -> Severity:
    for bound, name in taxonomy.thresholds:
        if score >= bound:
            return name
    return "low"
