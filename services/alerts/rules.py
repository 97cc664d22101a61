"""The rule language: YAML rules validated at start-up, with errors naming file, line and field.

A rule fires when every condition it states holds (absent conditions are not checked):
phrase sets `any` / `all` / `none`, proximity `near` ("A within N words of B"), `events` (with
optional `actors` / `targets`), `countries`, `regions`, `entities`, `topics`, `language`,
`min_score`, `min_severity` and `min_casualties`. `min_origins` (not a condition on the article:
on its story) holds a rule's alert until that many independent sources report the story. Phrases use the phrase language of services/text/phrases.py and,
unless `traps: false`, a phrase found in a trap (negated, hypothetical, historical, figurative,
peaceful) does not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas import Severity
from services.alerts.origins import MAX_ORIGINS
from services.text.datafile import DataFileError, Located
from services.text.phrases import compile_phrases, phrase_regex
from services.text.taxonomy import load_taxonomy

DATA = Path(__file__).parent / "data"
RULES_HELP = (
    "Validate a rules file with `newswire rules check FILE`; try it on archived articles with "
    "`newswire rules backtest FILE PATH...` before switching it on."
)
REGIONS_FILE = DATA / "regions.yaml"
Phrases = list[str]


def _check_phrases(v: Phrases) -> Phrases:
    for p in v:
        phrase_regex(p.strip())  # raises ValueError naming the phrase
    return v


class Near(BaseModel):
    """Some phrase of `a` within `within` words of some phrase of `b`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    a: Phrases = Field(min_length=1)
    b: Phrases = Field(min_length=1)
    within: int = Field(10, ge=0, le=200)

    _phrases = field_validator("a", "b")(_check_phrases)


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = Field(min_length=1)
    severity: Severity = Field(description="Least severity of the rule's alerts.")
    channels: list[str] = Field(default_factory=list)
    enabled: bool = True
    language: list[str] = Field(default_factory=list)
    any: Phrases = Field(default_factory=list)
    all: Phrases = Field(default_factory=list)
    none: Phrases = Field(default_factory=list)
    near: list[Near] = Field(default_factory=list)
    events: list[str] = Field(default_factory=list)
    actors: list[str] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    min_score: float | None = Field(None, ge=0.0, le=10.0)
    min_severity: Severity | None = None
    min_casualties: int | None = Field(None, ge=0, description="Largest stated casualty count.")
    min_origins: int = Field(
        1,
        ge=1,
        le=MAX_ORIGINS,  # the story record tells apart that many
        description="Independent sources the story needs before the rule alerts in it.",
    )
    traps: bool = True
    classifier: bool = Field(True, description="Count the classifier's events for `events`.")
    min_probability: float = Field(
        0.8, ge=0.0, le=1.0, description="The least classifier probability that counts."
    )

    _phrases = field_validator("any", "all", "none")(_check_phrases)

    @field_validator("countries", "actors", "targets")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not re.fullmatch(r"[A-Z]{2}", c)]
        if bad:
            raise ValueError(f"not ISO 3166-1 alpha-2 codes: {bad}")
        return v

    @model_validator(mode="after")
    def _has_condition(self) -> RuleSpec:
        if not (
            self.any
            or self.all
            or self.near
            or self.events
            or self.topics
            or self.min_score is not None
            or self.min_severity is not None
            or self.min_casualties is not None
        ):
            raise ValueError(
                "a rule needs a positive condition: any, all, near, events, topics, "
                "min_score, min_severity or min_casualties"
            )
        return self


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    regions: dict[str, list[str]] = Field(default_factory=dict)
    rules: list[RuleSpec] = Field(min_length=1)


class RuleError(DataFileError):
    """A rules file that does not validate; each line of the message is `file:line: field: problem`."""


@dataclass(frozen=True)
class Rule:
    spec: RuleSpec
    any_re: re.Pattern[str] | None
    all_res: tuple[re.Pattern[str], ...]
    none_re: re.Pattern[str] | None
    near_res: tuple[tuple[re.Pattern[str], re.Pattern[str], int], ...]
    codes: frozenset[str] = field(default_factory=frozenset)

    @property
    def id(self) -> str:
        return self.spec.id

    @classmethod
    def compile(cls, spec: RuleSpec, regions: dict[str, list[str]]) -> Rule:
        def one(phrases: Phrases) -> re.Pattern[str]:
            p = compile_phrases(tuple(phrases))
            assert p is not None  # validated non-empty
            return p

        codes = {*spec.countries, *(c for r in spec.regions for c in regions[r])}
        return cls(
            spec=spec,
            any_re=compile_phrases(tuple(spec.any)),
            all_res=tuple(one([p]) for p in spec.all),
            none_re=compile_phrases(tuple(spec.none)),
            near_res=tuple((one(n.a), one(n.b), n.within) for n in spec.near),
            codes=frozenset(codes),
        )


@lru_cache(maxsize=1)
def default_regions() -> dict[str, list[str]]:
    doc = yaml.safe_load(REGIONS_FILE.read_text(encoding="utf-8"))
    return {str(k): [str(c) for c in v] for k, v in doc.items()}


def parse_rules(text: str, name: str, event_types: frozenset[str] | None = None) -> list[Rule]:
    """Parse and validate a rules document; every problem is reported, not just the first."""
    try:
        located = Located(text, name)
        parsed = located.validate(RuleFile)
    except DataFileError as exc:
        raise RuleError(exc.problems) from exc
    problem = located.problem
    if event_types is None:
        event_types = frozenset(e.id for e in load_taxonomy().events)
    topics = frozenset(t.id for t in load_taxonomy().topics)
    regions = {**default_regions(), **parsed.regions}
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, r in enumerate(parsed.rules):
        if r.id in seen:
            problems.append(
                problem(("rules", i, "id"), f"duplicate id, first at rules[{seen[r.id]}]")
            )
        seen.setdefault(r.id, i)
        for fname, known, values in (
            ("events", event_types, r.events),
            ("topics", topics, r.topics),
            ("regions", frozenset(regions), r.regions),
        ):
            for j, v in enumerate(values):
                if v not in known:
                    problems.append(
                        problem(
                            ("rules", i, fname, j),
                            f"unknown {fname[:-1]} {v!r}; known: {sorted(known)}",
                        )
                    )
    if problems:
        raise RuleError(problems)
    return [Rule.compile(r, regions) for r in parsed.rules if r.enabled]


def load_rules(path: Path) -> list[Rule]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError([f"{path}:0: (file): cannot read rules: {exc}"]) from exc
    return parse_rules(text, str(path))
