"""Pure alerting: `evaluate(tagged, rules, state) -> list[Alert]`.

`state` is the caller's `StoryState`: the story index (near-duplicate fingerprint, or same event
type and places, within a window) and what was already alerted per (story, rule). The function
reads and updates it and does no I/O, so the worker, `analyze` and `rules backtest` behave alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from schemas import SEVERITIES, Alert, Match, Severity, StageTimes, TaggedArticle
from schemas.base import utcnow
from schemas.ids import alert_id
from services.alerts.rules import Rule
from services.text.phrases import sentence_matches
from services.text.sentences import article_text, sentence_at, sentences_of, tokens
from services.text.similarity import hamming, minhash_of, minhash_similarity
from services.text.taxonomy import Taxonomy, load_taxonomy
from services.text.traps import Context, reference_year, trap_for

MAX_MATCHES = 20


def rank(severity: Severity) -> int:
    return SEVERITIES.index(severity)


# ---- stories ------------------------------------------------------------------------------
@dataclass
class Story:
    id: str
    fingerprints: list[int]
    event_types: set[str]
    places: frozenset[str]
    first_seen: datetime
    last_seen: datetime
    articles: set[str] = field(default_factory=set)
    minhashes: list[tuple[int, ...]] = field(default_factory=list)


@dataclass
class Alerted:
    severity: Severity
    at: datetime
    number: int


_K = TypeVar("_K")
BANDS = 8  # the 64-bit fingerprint is indexed as 8 bands of 8 bits


def _bands(fp: int) -> list[tuple[int, int]]:
    return [(i, fp >> (8 * i) & 0xFF) for i in range(BANDS)]


def story_places(tagged: TaggedArticle) -> frozenset[str]:
    """The two most-mentioned places below country level (shelling in Kherson and in Kharkiv are two
    stories), else the two main countries when the article names no city or region."""
    local = sorted(
        (
            e
            for e in tagged.article.entities
            if e.type == "place" and e.kind not in (None, "country")
        ),
        key=lambda e: -e.mentions,
    )
    if local:
        return frozenset(e.name for e in local[:2])
    return frozenset(tagged.article.countries[:2])


@dataclass
class StoryState:
    """What evaluate remembers between articles; the caller keeps it (one per worker process).

    Near-duplicates are found through a band index: two fingerprints within 7 bits always share a
    band (pigeonhole), and most within `max_distance` do; only stories sharing a band are compared.
    When enrichment gives a bottom-k MinHash (issue 3), it is used instead: stories sharing a hash
    are compared, and an estimated Jaccard of at least `min_jaccard` is the same story.
    """

    window: timedelta = timedelta(hours=6)
    max_distance: int = 12  # SimHash bits (wire copies: <10; unrelated pairs in our set: >=18)
    min_jaccard: float = 0.5
    stories: dict[str, Story] = field(default_factory=dict)
    story_of_article: dict[str, str] = field(default_factory=dict)
    alerted: dict[tuple[str, str], Alerted] = field(default_factory=dict)
    emitted: dict[str, list[Alert]] = field(default_factory=dict)  # by article id
    by_band: dict[tuple[int, int], set[str]] = field(default_factory=dict)
    by_places: dict[frozenset[str], set[str]] = field(default_factory=dict)
    by_hash: dict[int, set[str]] = field(default_factory=dict)
    pruned_at: datetime | None = None

    def prune(self, now: datetime) -> None:
        """Forget stories idle for two windows, so memory stays bounded on an endless stream."""
        if self.pruned_at is not None and abs(now - self.pruned_at) < self.window / 12:
            return
        self.pruned_at = now
        old = [s for s in self.stories.values() if now - s.last_seen > 2 * self.window]
        for s in old:
            del self.stories[s.id]
            for a in s.articles:
                self.story_of_article.pop(a, None)
                self.emitted.pop(a, None)
            for fp in s.fingerprints:
                for band in _bands(fp):
                    _discard(self.by_band, band, s.id)
            _discard(self.by_places, s.places, s.id)
            for mh in s.minhashes:
                for h in mh:
                    _discard(self.by_hash, h, s.id)
        if old:
            gone = {s.id for s in old}
            self.alerted = {k: v for k, v in self.alerted.items() if k[0] not in gone}

    def assign(self, tagged: TaggedArticle, now: datetime) -> tuple[Story, bool]:
        """The story of this article (joining or starting one) and whether the article is new to it."""
        art_id = tagged.article.id
        if art_id in self.story_of_article:
            return self.stories[self.story_of_article[art_id]], False
        mh = minhash_of(tagged.article)
        fp = int(tagged.fingerprint, 16) if tagged.fingerprint and mh is None else None
        types = {e.type for e in tagged.events}
        places = story_places(tagged)
        story = self._find(fp, mh, types, places, now)
        if story is None:
            story = Story(art_id, [], set(), places, now, now)
            self.stories[story.id] = story
            self.by_places.setdefault(places, set()).add(story.id)
        if mh is not None and mh not in story.minhashes:
            story.minhashes.append(mh)
            for h in mh:
                self.by_hash.setdefault(h, set()).add(story.id)
        if fp is not None and fp not in story.fingerprints:
            story.fingerprints.append(fp)
            for band in _bands(fp):
                self.by_band.setdefault(band, set()).add(story.id)
        story.event_types |= types
        story.last_seen = max(story.last_seen, now)
        story.articles.add(art_id)
        self.story_of_article[art_id] = story.id
        return story, True

    def _live(self, ids: set[str], now: datetime) -> list[Story]:
        found = (self.stories[i] for i in sorted(ids) if i in self.stories)
        return [s for s in found if abs(now - s.last_seen) <= self.window]

    def _find(
        self,
        fp: int | None,
        mh: tuple[int, ...] | None,
        types: set[str],
        places: frozenset[str],
        now: datetime,
    ) -> Story | None:
        if mh is not None:
            sharing: set[str] = set()
            for h in mh:
                sharing |= self.by_hash.get(h, set())
            own = set(mh)
            for s in self._live(sharing, now):
                # the estimate counts shared hashes among the k smallest: fewer than
                # min_jaccard * k shared at all cannot reach it (most candidates share one or two)
                if any(
                    len(own.intersection(m)) / min(len(mh), len(m)) >= self.min_jaccard
                    and minhash_similarity(mh, m) >= self.min_jaccard
                    for m in s.minhashes
                ):
                    return s
        if fp is not None:
            near: set[str] = set()
            for band in _bands(fp):
                near |= self.by_band.get(band, set())
            for s in self._live(near, now):
                if any(hamming(fp, f) <= self.max_distance for f in s.fingerprints):
                    return s
        if types and places:
            for s in self._live(self.by_places.get(places, set()), now):
                if s.event_types & types:
                    return s
        return None


def _discard(index: dict[_K, set[str]], key: _K, story_id: str) -> None:
    """Remove a story from an index entry, and the entry once empty: the same index as dropping
    every empty entry after a prune, without a pass over all of them (by_hash is 64 per story)."""
    ids = index.get(key)
    if ids is not None:
        ids.discard(story_id)
        if not ids:
            del index[key]


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
def article_time(tagged: TaggedArticle) -> datetime:
    """Publication time when known, so replaying an archive clusters as the live stream did."""
    t = tagged.article.times
    return t.published or t.ingested or t.tagged or utcnow()


def evaluate(
    tagged: TaggedArticle,
    rules: Sequence[Rule],
    state: StoryState,
    taxonomy: Taxonomy | None = None,
) -> list[Alert]:
    """Alerts for this article, at most one per (story, rule) per window unless severity rises."""
    now = article_time(tagged)
    state.prune(now)
    story, new_article = state.assign(tagged, now)
    if not new_article:
        # redelivered (a replay, or Kafka after a rebalance): the same alerts with the same ids,
        # which delivery's dedupe keeps from reaching subscribers twice
        return list(state.emitted.get(tagged.article.id, []))
    doc = _Doc.of(tagged, taxonomy or load_taxonomy())
    art = tagged.article
    alerts: list[Alert] = []
    names: tuple[list[str], list[str]] | None = None  # places and entities, once per article
    for rule in rules:
        found = rule_matches(rule, doc)
        if found is None:
            continue
        severity = max(rule.spec.severity, tagged.severity, key=rank)
        key = (story.id, rule.id)
        prev = state.alerted.get(key)
        previous: Severity | None = None
        if prev is None or now - prev.at > state.window:
            number = prev.number + 1 if prev else 0
        elif rank(severity) > rank(prev.severity):
            number, previous = prev.number, prev.severity
        else:
            continue  # same story, same rule, no rise: the story's article count already grew
        state.alerted[key] = Alerted(severity, now, number)
        if names is None:
            names = (
                [e.name for e in art.entities if e.type == "place"],
                [e.name for e in art.entities if e.type != "other"][:50],
            )
        alerts.append(
            Alert(
                id=alert_id(f"{story.id}:{number}:{severity}", rule.id),
                rule_id=rule.id,
                rule_description=rule.spec.description,
                severity=severity,
                previous_severity=previous,
                score=tagged.escalation_score,
                score_components=tagged.score_components,
                events=[
                    e for e in tagged.events if not rule.spec.events or e.type in rule.spec.events
                ],
                matches=_dedupe(found)[:MAX_MATCHES],
                article_id=art.id,
                story_id=story.id,
                story_articles=len(story.articles),
                title=art.title,
                url=art.url,
                countries=art.countries,
                places=names[0],
                entities=names[1],
                channels=rule.spec.channels,
                times=StageTimes(**{**art.times.model_dump(), "alerted": utcnow()}),
            )
        )
    if alerts:
        state.emitted[art.id] = alerts
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
