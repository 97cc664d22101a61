"""enrich -> tag -> evaluate without a broker: `newswire analyze` and `newswire rules backtest`."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from schemas import Alert, TaggedArticle
from services.alerts.core import StoryState
from services.alerts.rules import Rule
from services.ingest.parse import ArticleError, Item, from_mapping, from_text, read_paths
from services.offline.chain import Chain
from services.text.taxonomy import Taxonomy


def read_stream(stream: TextIO, name: str = "-") -> Iterator[Item]:
    """Standard input: JSON Lines of articles when every line is a JSON object, else one text article."""
    text = stream.read()
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    path = Path(name)
    try:
        objs = [(n, json.loads(line)) for n, line in lines]
    except ValueError:
        objs = []
    if objs and all(isinstance(o, dict) for _, o in objs):
        for n, o in objs:
            try:
                yield Item(path, n, from_mapping(o, name))
            except ArticleError as exc:
                yield Item(path, n, None, str(exc))
        return
    try:
        yield Item(path, None, from_text(text, name))
    except ArticleError as exc:
        yield Item(path, None, None, str(exc))


def read_inputs(paths: Sequence[str], stdin: TextIO | None = None) -> Iterator[Item]:
    """Files and folders as replay reads them; `-` (or nothing) is standard input."""
    for p in paths or ["-"]:
        if p == "-":
            yield from read_stream(stdin if stdin is not None else sys.stdin)
        else:
            yield from read_paths([Path(p)])


def tagged_from(
    title: str, body: str, url: str | None = None, published: str | None = None
) -> TaggedArticle:
    """enrich -> tag of one article given as text: for tests, notebooks and the REPL."""
    obj = {"title": title, "body": body, "url": url, "published_at": published}
    return Chain(rules=()).tagged(from_mapping({k: v for k, v in obj.items() if v is not None}))


@dataclass(frozen=True)
class Result:
    item: Item
    tagged: TaggedArticle
    alerts: list[Alert]


def run(
    items: Iterable[Item],
    rules: Sequence[Rule],
    state: StoryState | None = None,
    taxonomy: Taxonomy | None = None,
    independent: bool = False,
) -> Iterator[Result | Item]:
    """Each input in order: a Result, or the Item itself when it could not be read or processed.
    `independent`: each article judged on its own, with no story state (for evaluation)."""
    chain = Chain(rules, taxonomy, state if state is not None else StoryState())
    for item in items:
        if item.article is None:
            yield item
            continue
        try:
            tagged = chain.tagged(item.article)
        except (ValidationError, ValueError) as exc:
            yield Item(item.path, item.line, None, f"cannot process: {exc}")
            continue
        if independent:
            chain.state = StoryState()
        yield Result(item, tagged, chain.evaluate(tagged))


def analyze_record(r: Result) -> dict[str, Any]:
    """The tagged article with its alerts: the line `newswire analyze` prints."""
    out: dict[str, Any] = r.tagged.model_dump(mode="json")
    out["alerts"] = [a.model_dump(mode="json") for a in r.alerts]
    return out


def pretty(r: Result) -> str:
    t = r.tagged
    lines = [
        f"{t.article.id}  {t.severity.upper():8} score {t.escalation_score:4.1f}  {t.article.title[:90]}"
    ]
    lines += [f"    score  {c.name:12} {c.points:+.1f}  {c.detail}" for c in t.score_components]
    lines += [
        f"    event  {e.type:18} {e.actor or '?'} → {e.target or '?'}  «{e.trigger.term}»"
        for e in t.events
    ]
    lines += [f"    trap   {s.reason:12} «{s.term}» (cue «{s.cue}»)" for s in t.suppressed[:8]]
    lines += [
        f"    ALERT  [{a.severity}] {a.rule_id} (story {a.story_id}, {a.story_articles} article(s))"
        for a in r.alerts
    ]
    return "\n".join(lines)


@dataclass
class Backtest:
    articles: int = 0
    skipped: int = 0
    alerts: Counter[str] = field(default_factory=Counter)
    matched: Counter[str] = field(default_factory=Counter)
    stories: dict[str, set[str]] = field(default_factory=dict)
    by_severity: Counter[str] = field(default_factory=Counter)

    def add(self, r: Result, rule_ids: Iterable[str]) -> None:
        self.articles += 1
        for a in r.alerts:
            self.alerts[a.rule_id] += 1
            self.by_severity[a.severity] += 1
            self.stories.setdefault(a.rule_id, set()).add(a.story_id)
        for rid in rule_ids:
            self.matched[rid] += 1

    def summary(self, rules: Sequence[Rule]) -> list[str]:
        out = [
            f"{self.articles} article(s), {self.skipped} skipped, "
            f"{sum(self.alerts.values())} alert(s) "
            f"({', '.join(f'{k} {v}' for k, v in sorted(self.by_severity.items())) or 'none'})"
        ]
        out += [
            f"  {r.id:24} {self.alerts[r.id]:5} alert(s) {len(self.stories.get(r.id, ())):5} "
            f"stor(y/ies) {self.matched[r.id]:5} matching article(s)"
            for r in rules
        ]
        return out
