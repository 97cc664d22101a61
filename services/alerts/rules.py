"""Rule definitions: loaded from YAML and validated at start-up with errors that name file and field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas import Severity


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str
    severity: Severity
    any: list[str] = Field(default_factory=list)
    all: list[str] = Field(default_factory=list)
    none: list[str] = Field(default_factory=list)


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RuleSpec] = Field(min_length=1)


class RuleError(ValueError):
    """A rules file that does not validate; the message names the file and the field."""


def _phrases(terms: list[str]) -> re.Pattern[str] | None:
    alts = sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True)
    if not alts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(a) for a in alts) + r")(?!\w)", re.I)


@dataclass(frozen=True)
class Rule:
    spec: RuleSpec

    @cached_property
    def any_re(self) -> re.Pattern[str] | None:
        return _phrases(self.spec.any)

    @cached_property
    def all_res(self) -> list[re.Pattern[str]]:
        return [p for t in self.spec.all if (p := _phrases([t])) is not None]

    @cached_property
    def none_re(self) -> re.Pattern[str] | None:
        return _phrases(self.spec.none)


def load_rules(path: Path) -> list[Rule]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RuleError(f"{path}: cannot read rules: {exc}") from exc
    try:
        parsed = RuleFile.model_validate(doc)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise RuleError(f"{path}: {problems}") from exc
    ids = [r.id for r in parsed.rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RuleError(f"{path}: duplicate rule ids {dupes}")
    return [Rule(r) for r in parsed.rules]
