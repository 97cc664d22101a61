"""Alerting: `propose` (pure, per article: which rules match, with what severity and evidence),
then the story engine: read the article's bucket from a `StoryStore`, `decide` (pure,
services/alerts/stories.py: which story, which alerts, what a redelivery raises), commit the story
with its alerts' delivery. The same engine runs over the memory store (`StoryState`, for
`evaluate`: `analyze`, `rules backtest`, the evaluation, the benches) and over Redis (the alerts
worker, store.py), so the offline chain decides as the workers do.
"""

from __future__ import annotations

import re
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from schemas import SEVERITY_RANK, Alert, Match, Severity, StageTimes, TaggedArticle
from schemas.base import utcnow
from schemas.ids import alert_id
from services.alerts.rules import Rule
from services.alerts.store import MemoryStories
from services.alerts.stories import (
    Decision,
    Rules,
    Signature,
    StoryChange,
    StoryStore,
    StoryView,
    decide,
    signature_of,
)
from services.text.phrases import sentence_matches
from services.text.sentences import article_text, sentence_at, sentences_of, tokens
from services.text.taxonomy import Taxonomy, load_taxonomy
from services.text.traps import Context, reference_year, trap_for

MAX_MATCHES = 20


T = TypeVar("T")
MAX_TRIES = 50  # commits of one article lost to other replicas before giving up


# ---- rule matching ------------------------------------------------------------------------
@dataclass
class _Doc:
    """One article prepared once for all rules."""

    tagged: TaggedArticle
    text: str
    ctx: Context

    @classmethod
    def of(cls, tagged: TaggedArticle, tax: Taxonomy) -> _Doc:
        art = tagged.article
        text = article_text(art)
        sents = sentences_of(art, text)
        year = reference_year(art.times)
        return cls(tagged, text, Context.of(text, sents, year, tax.traps))

    def hits(self, pattern: re.Pattern[str], traps: bool) -> list[re.Match[str]]:
        return [
            m
            for m in sentence_matches(pattern, self.text, self.ctx.sentences)
            if not traps or trap_for(self.ctx, m.start(), m.end()) is None
        ]

    def match(self, start: int, end: int) -> Match:
        sent = sentence_at(self.ctx.sentences, start)
        return Match(
            term=self.text[start:end],
            sentence=sent.text if sent else "",
            start=start,
            end=end,
        )


def _near(doc: _Doc, a: list[re.Match[str]], b: list[re.Match[str]], within: int) -> list[Match]:
    for x in a:
        for y in b:
            lo, hi = (x, y) if x.start() <= y.start() else (y, x)
            if lo.end() <= hi.start() and len(tokens(doc.text[lo.end() : hi.start()])) <= within:
                return [doc.match(x.start(), x.end()), doc.match(y.start(), y.end())]
    return []


def rule_matches(rule: Rule, doc: _Doc) -> list[Match] | None:
    """The evidence for `rule` in this article, or None when a condition fails."""
    s, tagged = rule.spec, doc.tagged
    art = tagged.article
    if s.language and art.language not in s.language:
        return None
    if s.min_score is not None and tagged.escalation_score < s.min_score:
        return None
    if (
        s.min_severity is not None
        and SEVERITY_RANK[tagged.severity] < SEVERITY_RANK[s.min_severity]
    ):
        return None
    if s.min_casualties is not None and (tagged.casualties or 0) < s.min_casualties:
        return None
    if s.topics and not {t.id for t in tagged.topics} & set(s.topics):
        return None
    if rule.codes and not rule.codes & {
        *art.countries,
        *(c for e in tagged.events for c in (e.actor, e.target) if c),
    }:
        return None
    if s.entities:
        wanted = {e.casefold() for e in s.entities}
        names = {n.casefold() for e in art.entities for n in (e.name, *e.aliases)}
        if not wanted & names:
            return None
    found: list[Match] = []
    if s.events or s.actors or s.targets:
        events = [
            e
            for e in tagged.events
            if (not s.events or e.type in s.events)
            and (
                e.detector == "rules"
                or (s.classifier and (e.probability or 0) >= s.min_probability)
            )
            and (not s.actors or e.actor in s.actors)
            and (not s.targets or e.target in s.targets)
        ]
        if not events:
            return None
        found += [doc.match(e.trigger.start, e.trigger.end) for e in events]
    if rule.none_re is not None and rule.none_re.search(doc.text):
        return None
    if rule.any_re is not None:
        hits = doc.hits(rule.any_re, s.traps)
        if not hits:
            return None
        found += [doc.match(m.start(), m.end()) for m in hits]
    for p in rule.all_res:
        hits = doc.hits(p, s.traps)
        if not hits:
            return None
        found += [doc.match(m.start(), m.end()) for m in hits[:3]]
    for a, b, within in rule.near_res:
        pair = _near(doc, doc.hits(a, s.traps), doc.hits(b, s.traps), within)
        if not pair:
            return None
        found += pair
    if not found:  # a score- or casualty-only rule: the events are its evidence
        found = [doc.match(e.trigger.start, e.trigger.end) for e in tagged.events]
    return found


# ---- evaluate -----------------------------------------------------------------------------
@dataclass
class Proposal:
    """What an article would alert, before story state decides: its story signature and, for
    each rule that matches, the severity and the evidence. Pure, like everything here."""

    tagged: TaggedArticle
    sig: Signature
    hits: list[tuple[Rule, Severity, list[Match]]]

    @property
    def proposed(self) -> list[tuple[str, Severity]]:
        return [(r.id, sev) for r, sev, _ in self.hits]

    @property
    def needs(self) -> dict[str, int]:
        """The independent origins each rule waits for, where it waits for more than one."""
        return {r.id: r.spec.min_origins for r, _, _ in self.hits if r.spec.min_origins > 1}


def propose(
    tagged: TaggedArticle, rules: Sequence[Rule], taxonomy: Taxonomy | None = None
) -> Proposal:
    doc = _Doc.of(tagged, taxonomy or load_taxonomy())
    hits = []
    for rule in rules:
        found = rule_matches(rule, doc)
        if found is not None:
            hits.append(
                (
                    rule,
                    max(rule.spec.severity, tagged.severity, key=SEVERITY_RANK.__getitem__),
                    found,
                )
            )
    return Proposal(tagged, signature_of(tagged), hits)


def alerts_of(p: Proposal, story: StoryView, decisions: Sequence[Decision]) -> list[Alert]:
    """The alerts the story's decisions let through, built from the article's evidence."""
    if not decisions:
        return []
    art = p.tagged.article
    by_rule = {r.id: (r, found) for r, _, found in p.hits}
    places = [e.name for e in art.entities if e.type == "place"]
    entities = [e.name for e in art.entities if e.type != "other"][:50]
    alerts = []
    for d in decisions:
        rule, found = by_rule[d.rule_id]
        events = [e for e in p.tagged.events if not rule.spec.events or e.type in rule.spec.events]
        located = [e.location for e in events if e.location is not None]
        # the story's place, unless this rule's events all happened in another country
        where = story.location
        if located and all(loc.country != story.loc[0] for loc in located):
            where = max(located, key=lambda loc: loc.confidence)
        alerts.append(
            Alert(
                id=alert_id(f"{story.id}:{d.number}:{d.severity}", rule.id),
                rule_id=rule.id,
                rule_description=rule.spec.description,
                severity=d.severity,
                previous_severity=d.previous,
                score=p.tagged.escalation_score,
                score_components=p.tagged.score_components,
                events=events,
                matches=_dedupe(found)[:MAX_MATCHES],
                article_id=art.id,
                story_id=story.id,
                story_articles=max(story.articles, 1),
                origins=max(story.origins, 1),
                title=art.title,
                url=art.url,
                countries=[where.country] if where is not None and where.country else [],
                countries_mentioned=art.countries,
                event_location=where,
                places=places,
                entities=entities,
                channels=rule.spec.channels,
                times=StageTimes(**{**art.times.model_dump(), "alerted": utcnow()}),
            )
        )
    return alerts


# ---- the story engine -----------------------------------------------------------------------
class Contended(RuntimeError):
    """The bucket kept changing under us: a transient error, the record is processed again."""


@dataclass(frozen=True)
class Settled:
    """One article's outcome: the alerts it raised (or raises again, when redelivered), their
    stream entry ids (None: delivered before), and its story."""

    article_id: str
    alerts: list[Alert]
    entries: list[str | None]
    story: StoryView
    redelivered: bool

    @property
    def opens_story(self) -> bool:
        """The article opened its story (trends count stories, not copies)."""
        return self.story.id == self.article_id


class StoryEngine:
    """Read, `decide`, commit, over any `StoryStore`; a commit that lost a race decides again."""

    def __init__(self, store: StoryStore) -> None:
        self.store = store
        self.conflicts = 0  # commits retried because another replica changed the bucket

    async def settle(self, p: Proposal) -> Settled:
        return (await self.settle_all([p]))[0]

    async def settle_all(self, proposals: Sequence[Proposal]) -> list[Settled]:
        """Each article as if settled one after the other, in rounds of a few round trips each:
        a round takes the first unsettled article of every bucket (an article may join the story
        the previous one of its bucket opened, so a bucket's articles go in order), reads their
        buckets together, decides each, and commits them together; an article whose bucket
        another replica changed in between goes again in the next round."""
        out: list[Settled | None] = [None] * len(proposals)
        tries = [0] * len(proposals)
        pending = list(range(len(proposals)))
        while pending:
            batch, taken = [], set()
            for i in pending:  # the first unsettled article of each bucket
                if proposals[i].sig.bucket not in taken:
                    taken.add(proposals[i].sig.bucket)
                    batch.append(i)
            reads = await self.store.read_many([proposals[i].sig for i in batch])
            changes: list[tuple[int, StoryChange]] = []
            for i, read in zip(batch, reads, strict=True):
                p = proposals[i]
                d = decide(p.sig, p.proposed, read, self.store.rules, p.needs)
                alerts = alerts_of(p, d.story, d.decisions)
                if d.redelivered:  # the same alerts again, delivered before: nothing to write
                    out[i] = Settled(p.sig.article_id, alerts, [None] * len(alerts), d.story, True)
                else:
                    changes.append((i, StoryChange(read.version, d.story, p.sig, alerts)))
            results = await self.store.commit_many([c for _, c in changes])
            for (i, change), entries in zip(changes, results, strict=True):
                if entries is not None:
                    art = change.sig.article_id
                    out[i] = Settled(art, change.alerts, entries, change.story, False)
                    continue
                self.conflicts += 1
                tries[i] += 1
                if tries[i] >= MAX_TRIES:
                    bucket = proposals[i].sig.bucket
                    raise Contended(f"story bucket {bucket!r} changed {MAX_TRIES} times in a row")
            pending = [i for i in pending if out[i] is None]
        return [s for s in out if s is not None]


def run_now(step: Coroutine[Any, Any, T]) -> T:
    """The result of a coroutine that never suspends (the engine over the memory store, whose
    reads and commits do not wait): no event loop, so the offline chain stays synchronous."""
    try:
        step.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    step.close()
    raise RuntimeError("the story store suspended: only the memory store runs without a loop")


class StoryState(StoryEngine):
    """The story engine over one process's memory, run synchronously: `analyze`, backtests, the
    evaluation and the benches; the alerts worker runs the same engine over Redis."""

    store: MemoryStories

    def __init__(self, rules: Rules | None = None) -> None:
        super().__init__(MemoryStories(rules))

    @property
    def stories(self) -> dict[str, StoryView]:
        return self.store.stories

    def articles(self, story_id: str) -> set[str]:
        return self.store.articles_of.get(story_id, set())

    def story_of(self, article_id: str) -> str | None:
        return self.store.story_of_article.get(article_id)

    def settle_now(self, p: Proposal) -> Settled:
        return run_now(self.settle(p))


def evaluate(
    tagged: TaggedArticle,
    rules: Sequence[Rule],
    state: StoryState,
    taxonomy: Taxonomy | None = None,
) -> list[Alert]:
    """Alerts for this article, at most one per (story, rule) per window unless severity rises;
    a redelivered article gets the alerts it raised again (same ids)."""
    return state.settle_now(propose(tagged, rules, taxonomy)).alerts


def _dedupe(found: list[Match]) -> list[Match]:
    seen: set[tuple[int, int]] = set()
    out = []
    for m in sorted(found, key=lambda m: m.start):
        if (m.start, m.end) not in seen:
            seen.add((m.start, m.end))
            out.append(m)
    return out


def matching_rules(
    tagged: TaggedArticle, rules: Sequence[Rule], taxonomy: Taxonomy | None = None
) -> list[str]:
    """Ids of the rules whose conditions hold, before story dedupe: for backtests."""
    doc = _Doc.of(tagged, taxonomy or load_taxonomy())
    return [r.id for r in rules if rule_matches(r, doc) is not None]
