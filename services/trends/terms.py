"""The trends file (services/trends/data/trends.yaml): which stories count and which of their
terms, validated with `file:line` errors (services/text/datafile.py)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas import SEVERITY_RANK, Severity, StoryTerms
from services.text.datafile import DataFileError, read_located
from services.text.taxonomy import load_taxonomy

DEFAULT_FILE = Path(__file__).parent / "data" / "trends.yaml"
Kind = Literal["place", "actors", "weapon", "event", "country", "topic", "entity"]


class TrendTerms(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    events: list[str] = Field(
        min_length=1, description="Event types (taxonomy ids) that make a story count."
    )
    min_severity: Severity = "low"
    kinds: list[Kind] = Field(min_length=1, description="Term kinds counted, by priority.")

    @field_validator("events", "kinds")
    @classmethod
    def _once(cls, v: list[str]) -> list[str]:
        if dupes := sorted({x for x in v if v.count(x) > 1}):
            raise ValueError(f"listed more than once: {', '.join(dupes)}")
        return v

    @cached_property
    def _events(self) -> frozenset[str]:
        return frozenset(self.events)

    def counts(self, story: StoryTerms) -> bool:
        """Whether a story's terms are counted: an escalation event and the severity."""
        return SEVERITY_RANK[story.severity] >= SEVERITY_RANK[self.min_severity] and any(
            e in self._events for e in story.events
        )

    def terms_of(self, story: StoryTerms) -> list[str]:
        """The terms counted for a story, in the order of their kinds' priority."""
        if not self.counts(story):
            return []
        by_kind: dict[str, list[str]] = {k: [] for k in self.kinds}
        for t in story.terms:
            kind = t.partition(":")[0]
            if kind in by_kind:
                by_kind[kind].append(t)
        return [t for k in self.kinds for t in by_kind[k]]

    def priority(self, term: str) -> tuple[int, int]:
        """Sort key of spiking terms: the kind's rank, then the more specific place first."""
        kind = term.partition(":")[0]
        rank = self.kinds.index(kind) if kind in self.kinds else len(self.kinds)
        return rank, 0 if "/" in term else 1


def load_trend_terms(path: Path = DEFAULT_FILE, taxonomy_file: Path | None = None) -> TrendTerms:
    """The trends file, checked against the taxonomy's event types; every problem is reported as
    `file:line: field: problem`."""
    located = read_located(path)
    spec = located.validate(TrendTerms)
    taxonomy = load_taxonomy(taxonomy_file) if taxonomy_file else load_taxonomy()
    known = {e.id for e in taxonomy.events}
    problems = [
        located.problem(
            ("events", i),
            f"unknown event type {e!r}; the taxonomy has: " + ", ".join(sorted(known)),
        )
        for i, e in enumerate(spec.events)
        if e not in known
    ]
    if problems:
        raise DataFileError(problems)
    return spec
