"""Pure alerting: `evaluate(tagged, rules, state) -> list[Alert]`.

`state` is the caller's `StoryState`: the story index (services/alerts/stories.py: same event
type, event location, day and window, compatible actors and tolls; text similarity for copies)
and what was already alerted per (story, rule). The function reads and updates it and does no
I/O, so `analyze` and `rules backtest` behave as the worker, which splits it in two: `propose`
(pure, per article) then the story decision and delivery in Redis, atomically (store.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from schemas import SEVERITIES, Alert, Match, Severity, StageTimes, TaggedArticle
from schemas.base import utcnow
from schemas.ids import alert_id
from services.alerts.rules import Rule
from services.alerts.stories import (
    Decision,
    Rules,
    Signature,
    StoryIndex,
    StoryView,
    article_time,
    decide,
    signature_of,
)
from services.text.phrases import sentence_matches
from services.text.sentences import article_text, sentence_at, sentences_of, tokens
from services.text.taxonomy import Taxonomy, load_taxonomy
from services.text.traps import Context, reference_year, trap_for

MAX_MATCHES = 20


def rank(severity: Severity) -> int:
    return SEVERITIES.index(severity)


# ---- stories ------------------------------------------------------------------------------
@dataclass
class StoryState:
    """The in-memory story index of one process (services/alerts/stories.py), for `analyze`,
    backtests and benches; the alerts worker keeps the same records in Redis (store.py).

    `evaluate` reads and updates it and does no I/O. Stories idle for two windows are forgotten.
    """

    window: timedelta = timedelta(hours=6)
    max_distance: int = 12  # SimHash bits (wire copies: <10; unrelated pairs in our set: >=18)
    min_jaccard: float = 0.5
    index: StoryIndex = field(init=False)
    emitted: dict[str, list[Alert]] = field(default_factory=dict)  # by article id

    def __post_init__(self) -> None:
        self.index = StoryIndex(Rules(self.window, self.min_jaccard, self.max_distance))

    @property
    def stories(self) -> dict[str, StoryView]:
        return self.index.stories

    def articles(self, story_id: str) -> set[str]:
        return self.index.articles_of.get(story_id, set())

    def prune(self, now: datetime) -> None:
        before = len(self.index.stories)
        self.index.prune(now)
        if len(self.index.stories) != before:
            known = self.index.story_of_article
            self.emitted = {a: v for a, v in self.emitted.items() if a in known}

    def assign(
        self, tagged: TaggedArticle, now: datetime, sig: Signature | None = None
    ) -> tuple[StoryView, bool]:
        """The story of this article (joining or opening one) and whether the article is new to it."""
        known = self.index.story_of_article.get(tagged.article.id)
        if known is not None and known in self.index.stories:
            return self.index.stories[known], False
        sig = sig or signature_of(tagged)
        story, _ = self.index.find(sig)
        if story is None:
            story = StoryView.open(sig)
        else:
            story.join(sig)
        self.index.put(story, sig.article_id)
        return story, True


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
    if s.min_severity is not None and rank(tagged.severity) < rank(s.min_severity):
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


def propose(
    tagged: TaggedArticle, rules: Sequence[Rule], taxonomy: Taxonomy | None = None
) -> Proposal:
    doc = _Doc.of(tagged, taxonomy or load_taxonomy())
    hits = []
    for rule in rules:
        found = rule_matches(rule, doc)
        if found is not None:
            hits.append((rule, max(rule.spec.severity, tagged.severity, key=rank), found))
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


def evaluate(
    tagged: TaggedArticle,
    rules: Sequence[Rule],
    state: StoryState,
    taxonomy: Taxonomy | None = None,
) -> list[Alert]:
    """Alerts for this article, at most one per (story, rule) per window unless severity rises."""
    now = article_time(tagged)
    state.prune(now)
    known = state.index.story_of_article.get(tagged.article.id)
    if known is not None and known in state.index.stories:
        # redelivered (a replay, or Kafka after a rebalance): the same alerts with the same ids,
        # which delivery's dedupe keeps from reaching subscribers twice
        return list(state.emitted.get(tagged.article.id, []))
    p = propose(tagged, rules, taxonomy)
    story, _ = state.assign(tagged, now, p.sig)
    decisions = decide(story, p.proposed, tagged.article.id, now, state.window, False)
    alerts = alerts_of(p, story, decisions)
    if alerts:
        state.emitted[tagged.article.id] = alerts
    return alerts


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
