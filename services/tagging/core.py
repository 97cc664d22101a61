"""Pure tagging: `tag(enriched) -> TaggedArticle`, driven by the taxonomy data file.

Every escalation term is checked against the traps (negation and denial, hypotheticals, historical
references, metaphors, peaceful uses) in its own sentence before it counts; what a trap removed is
kept in `suppressed` so that a missing alert can be explained as well as a present one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from schemas import (
    EnrichedArticle,
    EventMention,
    Evidence,
    ScoreComponent,
    Severity,
    StageTimes,
    Suppressed,
    TaggedArticle,
    Topic,
)
from schemas.base import utcnow
from schemas.tagged import TrapReason
from services.text.phrases import (
    Phrases,
    Sentence,
    Sentences,
    article_text,
    fingerprint_of,
    phrase_starts,
    search_from,
    sentence_at,
    sentence_matches,
    sentences_of,
    tokens,
)

DATA = Path(__file__).parents[1] / "text" / "data"
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)s?\b")
# (the look-ahead holds every alternative's first character: it lets the scan skip the others)
_CLAUSE = re.compile(
    r"(?=[bhwat;:—])(?:\b(?:but|however|while|although|whereas|after|then)\b|[;:—])", re.I
)
_BY = re.compile(r"(?:\W+\w+){0,3}?\W+(?:by|from|blamed on|attributed to)\s+(?:the\s+)?", re.I)
_CLAUSE_AFTER = re.compile(r"[,;:]|\b(?:but|and|while|after)\b")
_BY_INSIDE = re.compile(r"\b(?:by|from)\s+(?:the\s+)?$", re.I)
_NUMBER = re.compile(r"^\d[\d,]*$")
_NT = re.compile("n't")

Pattern = Phrases
Kept = Callable[..., bool]  # tag()'s test of one match against the traps


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


@lru_cache(maxsize=4)
def load_taxonomy(path: Path = DATA / "taxonomy.yaml") -> Taxonomy:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    traps = doc["traps"]
    sev = doc.get("severity", {})
    score = doc["score"]
    return Taxonomy(
        languages=frozenset(doc.get("languages", ["en"])),
        topics=tuple(
            TopicDef(tid, t["label"], _pattern(t["terms"])) for tid, t in doc["topics"].items()
        ),
        events=tuple(
            EventDef(
                eid,
                e["label"],
                e.get("cameo"),
                float(e["weight"]),
                bool(e.get("modal", False)),
                _pattern(e["triggers"]),
                tuple((rid, _pattern(terms)) for rid, terms in e.get("refine", {}).items()),
                _pattern(e["requires"]) if e.get("requires") else None,
                _pattern(e["exclude"]) if e.get("exclude") else None,
            )
            for eid, e in doc["events"].items()
        ),
        weapons=tuple(
            (wid, float(w["weight"]), _pattern(w["terms"])) for wid, w in doc["weapons"].items()
        ),
        casualty=_pattern(doc["casualties"]["terms"]),
        number_words={str(k): int(v) for k, v in doc["casualties"]["number_words"].items()},
        score=score,
        casualty_points=tuple((int(a), float(b)) for a, b in score["casualties"]),
        thresholds=(
            (float(sev.get("critical", 8.0)), "critical"),
            (float(sev.get("high", 5.5)), "high"),
            (float(sev.get("medium", 3.0)), "medium"),
        ),
        traps=Traps(
            negation=_pattern(traps["negation"]["cues"]),
            negation_window=int(traps["negation"]["window"]),
            hypothetical=_pattern(traps["hypothetical"]["cues"]),
            hypothetical_window=int(traps["hypothetical"]["window"]),
            hypothetical_after=_pattern(traps["hypothetical"]["after"]),
            hypothetical_after_window=int(traps["hypothetical"]["after_window"]),
            historical=_pattern(traps["historical"]["cues"]),
            years_back=int(traps["historical"]["years_back"]),
            metaphor_phrases=_pattern(traps["metaphor"]["phrases"]),
            metaphor_context=_pattern(traps["metaphor"]["context"]),
            metaphor_hard=_pattern(traps["metaphor"]["hard"]),
            peaceful=_pattern(traps["peaceful"]["phrases"]),
            peaceful_context=_pattern(traps["peaceful"]["context"]),
        ),
    )


def severity_for(score: float, taxonomy: Taxonomy) -> Severity:
    for bound, name in taxonomy.thresholds:
        if score >= bound:
            return name
    return "low"


# ---- traps --------------------------------------------------------------------------------
@dataclass
class Context:
    """The article text split once; the spans of the phrase traps are found on the first check
    (most articles an alert rule reads never reach one), and each term's verdict is kept."""

    text: str
    sentences: Sentences
    ref_year: int | None
    traps: Traps
    # the traps that depend on the sentence alone, by sentence start: many terms share a sentence
    sentence_traps: dict[int, tuple[TrapReason, str] | None] = field(default_factory=dict)
    # by sentence start: where (from the sentence start) a negation, hypothetical and
    # hypothetical-after cue could start, None when not known (see _start_check)
    window_cues: dict[int, tuple[list[int] | None, ...]] = field(default_factory=dict)
    # trap_for's answer by (start, end, modal): topics, events and casualties share terms
    verdicts: dict[tuple[int, int, bool], tuple[TrapReason, str] | None] = field(
        default_factory=dict
    )

    @classmethod
    def of(
        cls, text: str, sentences: Sequence[Sentence], ref_year: int | None, traps: Traps
    ) -> Context:
        return cls(text, Sentences(sentences), ref_year, traps)

    @cached_property
    def phrase_traps(self) -> tuple[tuple[int, int, TrapReason, str], ...]:
        return _phrase_traps(self.text, self.sentences, self.traps)

    @cached_property
    def _sentence_starts(self) -> tuple[list[int], ...] | None:
        """Where a historical cue, metaphor or peaceful context or hard metaphor can start in the
        text: one index of the article instead of a scan of every sentence with a term."""
        t = self.traps
        sets = (t.historical, t.metaphor_context, t.peaceful_context, t.metaphor_hard)
        found = [phrase_starts(p, self.text) for p in sets]
        return None if any(f is None for f in found) else tuple(f for f in found if f is not None)

    def sentence_trap(self, sent: Sentence) -> tuple[TrapReason, str] | None:
        if sent.start not in self.sentence_traps:
            starts = self._sentence_starts
            if starts is None:
                found = _sentence_trap(sent.text, self.ref_year, self.traps)
            else:
                found = _sentence_trap_at(self.text, sent, self.ref_year, self.traps, starts)
            self.sentence_traps[sent.start] = found
        return self.sentence_traps[sent.start]


@lru_cache(maxsize=32)
def _phrase_traps(
    text: str, sentences: tuple[Sentence, ...], traps: Traps
) -> tuple[tuple[int, int, TrapReason, str], ...]:
    """Memoised: tagging and then alerting one article in one process scans its text once."""
    found: list[tuple[int, int, TrapReason, str]] = [
        (m.start(), m.end(), "peaceful", m.group(0))
        for m in sentence_matches(traps.peaceful, text, sentences)
    ]
    found += [
        (m.start(), m.end(), "metaphor", m.group(0))
        for m in sentence_matches(traps.metaphor_phrases, text, sentences)
    ]
    return tuple(found)


def _window(prefix: str, n: int, at_sentence_start: bool) -> str:
    """The last n (>= 1) words of `prefix`, lower-cased; a capitalised 'May' mid-sentence is the
    month."""
    toks = tokens(prefix)
    words: list[str] = []  # the window backwards: only the last tokens can be in it
    for i in range(len(toks) - 1, -1, -1):
        if len(words) >= n:
            break
        w = toks[i]
        if w == "May" and not (i == 0 and at_sentence_start):
            continue
        if w.lower().endswith("n't"):
            words.append("n't")
        words.append(w.lower())
    return " ".join(reversed(words[:n]))


def _sentence_trap(stext: str, ref_year: int | None, traps: Traps) -> tuple[TrapReason, str] | None:
    """The traps a whole sentence sets off, whatever term in it is checked."""
    if (m := traps.historical.search(stext)) is not None:
        return "historical", m.group(0)
    if ref_year is not None:
        for y in _YEAR.finditer(stext):
            if int(y.group(1)) <= ref_year - traps.years_back:
                return "historical", y.group(0)
    reasons: tuple[tuple[Pattern, TrapReason], ...] = (
        (traps.metaphor_context, "metaphor"),
        (traps.peaceful_context, "peaceful"),
    )
    for context, reason in reasons:
        if (m := context.search(stext)) is not None and not traps.metaphor_hard.search(stext):
            return reason, m.group(0)
    return None


def _sentence_trap_at(
    text: str,
    sent: Sentence,
    ref_year: int | None,
    traps: Traps,
    starts: tuple[list[int], ...],
) -> tuple[TrapReason, str] | None:
    """_sentence_trap, with each phrase search done from the article's candidate starts."""
    historical, metaphor, peaceful, hard = starts
    if (m := search_from(traps.historical, text, historical, sent)) is not None:
        return "historical", m.group(0)
    stext = sent.text
    if ref_year is not None:
        for y in _YEAR.finditer(stext):
            if int(y.group(1)) <= ref_year - traps.years_back:
                return "historical", y.group(0)
    reasons: tuple[tuple[Pattern, list[int], TrapReason], ...] = (
        (traps.metaphor_context, metaphor, "metaphor"),
        (traps.peaceful_context, peaceful, "peaceful"),
    )
    for context, at, reason in reasons:
        if (m := search_from(context, text, at, sent)) is not None and (
            search_from(traps.metaphor_hard, text, hard, sent) is None
        ):
            return reason, m.group(0)
    return None


def _window_cues(stext: str, traps: Traps) -> tuple[list[int] | None, ...]:
    """Where in the sentence each window trap's cue could start (None when not known): a window
    of words before the term holds a cue only if one starts before the term, one after it only
    if one starts after it."""
    if not stext.isascii():
        return None, None, None
    low = stext.lower()
    out: list[list[int] | None] = []
    for check in traps.window_checks:
        if check is None:
            out.append(None)
            continue
        at = [m.start() for m in check.finditer(low)]
        # _window adds a word "n't" after a token ending so: a cue in it starts at that "n't"
        if "n't" in low and check.search(" n't") is not None:
            at = sorted(at + [m.start() for m in _NT.finditer(low)])
        out.append(at)
    return tuple(out)


def trap_for(
    ctx: Context, start: int, end: int, modal: bool = False
) -> tuple[TrapReason, str] | None:
    """Why the term at [start, end) does not count, or None when it does."""
    key = (start, end, modal)
    if key not in ctx.verdicts:
        ctx.verdicts[key] = _trap_for(ctx, start, end, modal)
    return ctx.verdicts[key]


def _trap_for(ctx: Context, start: int, end: int, modal: bool) -> tuple[TrapReason, str] | None:
    for a, b, reason, cue in ctx.phrase_traps:
        if a < end and start < b:
            return reason, cue
    sent = sentence_at(ctx.sentences, start)
    if sent is None:
        return None
    traps = ctx.traps
    if (found := ctx.sentence_trap(sent)) is not None:
        return found
    cues = ctx.window_cues.get(sent.start)
    if cues is None:
        cues = ctx.window_cues[sent.start] = _window_cues(sent.text, traps)
    at = start - sent.start
    negation, hypothetical, after = cues
    before = ctx.text[sent.start : start]
    if negation is None or (negation and negation[0] < at):
        clause = _CLAUSE.split(before)[-1]
        neg = _window(clause, traps.negation_window, clause is before)
        if (m := traps.negation.search(neg)) is not None:
            return "negated", m.group(0)
    if not modal:
        if hypothetical is None or (hypothetical and hypothetical[0] < at):
            hyp = _window(before, traps.hypothetical_window, True)
            if (m := traps.hypothetical.search(hyp)) is not None:
                return "hypothetical", m.group(0)
        if after is not None and not (after and after[-1] >= end - sent.start):
            return None
        # a modal verb right after the term, in the same clause: "a strike on X would be ..."
        rest = _CLAUSE_AFTER.split(ctx.text[end : sent.end], maxsplit=1)[0]
        nxt = " ".join(tokens(rest)[: traps.hypothetical_after_window])
        if (m := traps.hypothetical_after.search(nxt)) is not None:
            return "hypothetical", m.group(0)
    return None


# ---- extraction ---------------------------------------------------------------------------
def reference_year(times: StageTimes) -> int | None:
    """The year 'now' is for the article, to tell an old year mentioned in it from a recent one.

    Only the article's own times count: a processing time would make an archive's years look old.
    """
    stamp: datetime | None = times.published or times.ingested
    return stamp.year if stamp is not None else None


def _places(article: EnrichedArticle) -> list[tuple[int, int, str]]:
    """(start, end, actor id) of every place mention: its country code, else its name."""
    out = []
    for e in article.entities:
        if e.type != "place":
            continue
        for s in e.spans:
            out.append((s.start, s.end, e.country or e.name))
    return sorted(out)


def _actor_target(
    places: list[tuple[int, int, str]], sent: Sentence, start: int, end: int, text: str
) -> tuple[str | None, str | None]:
    """Who did it to whom, from the places in the trigger's sentence.

    "by X" or "from X" right after (or inside) the trigger names the actor; else a place just before the trigger
    ("Russian missiles", "Azerbaijan of opening fire"); else the sentence's first place (its subject).
    The target is the first other place after the trigger, else another place before it.
    """
    inside = [p for p in places if sent.start <= p[0] < sent.end]
    before = [p for p in inside if p[1] <= start]
    # a place inside the trigger ("violated Polish airspace") is its object, unless "by/from X"
    within = [p for p in inside if start <= p[0] and p[1] <= end]
    by_within = [p for p in within if _BY_INSIDE.search(text[start : p[0]])]
    after = [p for p in within if p not in by_within] + [p for p in inside if p[0] >= end]
    actor: str | None = None
    if by_within:
        actor = by_within[0][2]
    elif after and after[0][0] >= end and _BY.fullmatch(text[end : after[0][0]]):
        actor = after[0][2]
    elif before and len(tokens(text[before[-1][1] : start])) <= 3:
        actor = before[-1][2]
    elif before:
        actor = before[0][2]
    others = [p[2] for p in after if p[2] != actor]
    others += [p[2] for p in reversed(before) if p[2] != actor]
    return actor, (others[0] if others else None)


def _casualty_count(text: str, start: int, end: int, words: dict[str, int]) -> int | None:
    """The largest number among the six words before the term or the four after it, in its sentence."""
    head = text[max(0, start - 60) : start]
    head = re.split(r"[.!?\n]", head)[-1]
    near = [t.lower() for t in tokens(head)][-6:]
    near += [t.lower() for t in tokens(re.split(r"[.!?\n]", text[end : end + 40])[0])][:4]
    best: int | None = None
    for w in near:
        n = int(w.replace(",", "")) if _NUMBER.match(w) else words.get(w)
        if n is not None and not (1900 <= n <= 2100):
            best = max(best or 0, n)
    return best


def tag(article: EnrichedArticle, taxonomy: Taxonomy | None = None) -> TaggedArticle:
    tax = taxonomy or load_taxonomy()
    if article.language not in tax.languages:
        # English vocabulary on other languages finds false friends, not events: flow through, untagged.
        times = StageTimes(**{**article.times.model_dump(), "tagged": utcnow()})
        return TaggedArticle(
            article=article.model_copy(update={"times": times}),
            fingerprint=fingerprint_of(article),
        )
    text = article_text(article)
    ctx = Context.of(text, sentences_of(article, text), reference_year(article.times), tax.traps)
    sentences = ctx.sentences
    suppressed: dict[tuple[int, int], Suppressed] = {}

    def kept(m: re.Match[str], modal: bool = False) -> bool:
        trap = trap_for(ctx, m.start(), m.end(), modal)
        if trap is None:
            return True
        suppressed.setdefault(
            (m.start(), m.end()),
            Suppressed(term=m.group(0), start=m.start(), end=m.end(), reason=trap[0], cue=trap[1]),
        )
        return False

    topics = []
    for t in tax.topics:
        ev = [
            Evidence(term=m.group(0), start=m.start(), end=m.end())
            for m in sentence_matches(t.pattern, text, sentences)
            if kept(m)
        ]
        if ev:
            topics.append(Topic(id=t.id, label=t.label, evidence=ev))

    places = _places(article)
    events = _events(tax, ctx, text, places, kept)
    weights = {e.id: e.weight for e in tax.events}
    casualties = _max_casualties(tax, text, sentences, kept, article)
    components = _score(tax, text, sentences, events, weights, kept, casualties)
    score = round(max(0.0, min(10.0, sum(c.points for c in components))), 2)
    times = StageTimes(**{**article.times.model_dump(), "tagged": utcnow()})
    return TaggedArticle(
        article=article.model_copy(update={"times": times}),
        topics=topics,
        events=events,
        escalation_score=score,
        score_components=components,
        severity=severity_for(score, tax),
        casualties=casualties,
        suppressed=sorted(suppressed.values(), key=lambda s: s.start),
        fingerprint=fingerprint_of(article),
    )


def _events(
    tax: Taxonomy,
    ctx: Context,
    text: str,
    places: list[tuple[int, int, str]],
    kept: Kept,
) -> list[EventMention]:
    found: list[EventMention] = []
    by_id = {e.id: e for e in tax.events}
    for e in tax.events:
        for m in sentence_matches(e.pattern, text, ctx.sentences):
            if not kept(m, e.modal) or _overlaps(e.exclude, text, m):
                continue
            sent = sentence_at(ctx.sentences, m.start())
            if sent is None or (e.requires is not None and not e.requires.search(sent.text)):
                continue
            actor, target = _actor_target(places, sent, m.start(), m.end(), text)
            # a generic trigger ("struck") with a weapon in its sentence is that weapon's event type
            kind = next((by_id[r] for r, p in e.refine if p.search(sent.text)), e)
            found.append(
                EventMention(
                    type=kind.id,
                    label=kind.label,
                    cameo=kind.cameo,
                    trigger=Evidence(term=m.group(0), start=m.start(), end=m.end()),
                    sentence=sent.text,
                    actor=actor,
                    target=target,
                )
            )
    # the generic "attack" only counts where no specific violent event explains the sentence
    specific = {ev.sentence for ev in found if ev.type != "attack"}
    found = [ev for ev in found if ev.type != "attack" or ev.sentence not in specific]
    unique = {(ev.type, ev.trigger.start): ev for ev in found}
    return sorted(unique.values(), key=lambda ev: ev.trigger.start)


def _overlaps(exclude: Pattern | None, text: str, m: re.Match[str]) -> bool:
    """Whether an event's own exclusion ("test-fired" for a missile strike) covers the trigger."""
    if exclude is None:
        return False
    lo, hi = max(0, m.start() - 60), min(len(text), m.end() + 60)
    return any(
        x.start() + lo < m.end() and m.start() < x.end() + lo for x in exclude.finditer(text[lo:hi])
    )


def _max_casualties(
    tax: Taxonomy, text: str, sentences: Sequence[Sentence], kept: Kept, article: object
) -> int | None:
    """The largest stated count of killed or wounded; 0 when mentioned without a number.

    Enrichment's own counts (issue 3: `casualties` with kind and count) join ours when present.
    """
    counts = [
        _casualty_count(text, m.start(), m.end(), tax.number_words)
        for m in sentence_matches(tax.casualty, text, sentences)
        if kept(m)
    ]
    known = [c for c in counts if c is not None]
    known += [
        c.count
        for c in getattr(article, "casualties", None) or []
        if getattr(c, "kind", None) in ("killed", "injured") and isinstance(c.count, int)
    ]
    if known:
        return max(known)
    return 0 if counts else None


def _score(
    tax: Taxonomy,
    text: str,
    sentences: Sequence[Sentence],
    events: list[EventMention],
    weights: dict[str, float],
    kept: Kept,
    casualties: int | None,
) -> list[ScoreComponent]:
    """The escalation score as named parts, so an alert can say why it is as severe as it is."""
    violent = [e for e in events if weights[e.type] > 0]
    if not violent:
        coop = sorted({e.type for e in events})
        return [ScoreComponent(name="event", points=0.0, detail=", ".join(coop) or "no event")]
    top = max(violent, key=lambda e: weights[e.type])
    parts = [
        ScoreComponent(
            name="event", points=weights[top.type], detail=f"{top.type}: «{top.trigger.term}»"
        )
    ]
    if casualties is not None:
        points = 0.0
        for bound, p in tax.casualty_points:
            if casualties >= bound:
                points = p
        what = f"{casualties} casualties" if casualties else "casualties, number not stated"
        parts.append(ScoreComponent(name="casualties", points=points, detail=what))
    for wid, weight, pattern in tax.weapons:
        hit = next((m for m in sentence_matches(pattern, text, sentences) if kept(m)), None)
        if hit is not None:
            parts.append(
                ScoreComponent(name="weapon", points=weight, detail=f"{wid}: «{hit.group(0)}»")
            )
            break
    s = tax.score
    nuclear = [e for e in events if e.type in s["nuclear_language"]["events"]]
    if nuclear:
        parts.append(
            ScoreComponent(
                name="nuclear",
                points=float(s["nuclear_language"]["weight"]),
                detail=f"«{nuclear[0].trigger.term}»",
            )
        )
    actors = sorted({e.actor for e in violent if e.actor})
    if actors:
        parts.append(
            ScoreComponent(
                name="state_actor", points=float(s["state_actor"]), detail=", ".join(actors)
            )
        )
    pairs = sorted({f"{e.actor}→{e.target}" for e in violent if e.actor and e.target})
    if pairs:
        parts.append(
            ScoreComponent(
                name="cross_border", points=float(s["cross_border"]), detail=", ".join(pairs)
            )
        )
    kinds = sorted({e.type for e in violent})
    if len(kinds) >= int(s["breadth"]["min_types"]):
        parts.append(
            ScoreComponent(
                name="breadth", points=float(s["breadth"]["weight"]), detail=", ".join(kinds)
            )
        )
    return parts
