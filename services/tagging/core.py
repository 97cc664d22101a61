"""Pure tagging: `tag(enriched) -> TaggedArticle`, driven by the taxonomy data file.

Every escalation term is checked against the traps (negation and denial, hypotheticals, historical
references, metaphors, peaceful uses) in its own sentence before it counts; what a trap removed is
kept in `suppressed` so that a missing alert can be explained as well as a present one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date
from typing import cast

from schemas import (
    EnrichedArticle,
    EventMention,
    Evidence,
    ScoreComponent,
    Severity,
    StageTimes,
    Suppressed,
    TaggedArticle,
    TermWeight,
    Topic,
)
from schemas.base import utcnow
from schemas.tagged import EventFrame, FrameCheck, TrapReason
from services.text.classifier import default_model
from services.text.frame import (
    TRAP_AXIS,
    FrameCues,
    FrameResult,
    GenreCall,
    Memo,
    article_genre,
    frame_of,
    load_frame,
    native_frame,
    old_date,
    old_year,
)
from services.text.genre_model import default_genre_model
from services.text.i18n import assess
from services.text.lexicon import LANGUAGES as NATIVE_LANGUAGES
from services.text.location import with_locations
from services.text.phrases import sentence_matches
from services.text.sentences import (
    Sentence,
    Sentences,
    article_text,
    sentence_at,
    sentences_of,
    tokens,
)
from services.text.similarity import fingerprint_of
from services.text.taxonomy import Pattern, Taxonomy, load_taxonomy, severity_for
from services.text.traps import Context, reference_year, trap_for

_BY = re.compile(r"(?:\W+\w+){0,3}?\W+(?:by|from|blamed on|attributed to)\s+(?:the\s+)?", re.I)
_BY_INSIDE = re.compile(r"\b(?:by|from)\s+(?:the\s+)?$", re.I)
_NUMBER = re.compile(r"^\d[\d,]*$")

Kept = Callable[..., bool]  # tag()'s test of one match against the traps
Trap = tuple[TrapReason, str] | None
TrapOf = Callable[..., Trap]  # tag()'s trap (if any) of one match, recorded in `suppressed`


# ---- extraction ---------------------------------------------------------------------------
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


# Bounds on what a tagged record repeats, so that it stays a small multiple of its article (issue 27:
# every event carried its whole sentence, and a text of one trigger word repeated made thousands of
# events). Far above what real articles reach (the bench's most: 18 events of one type, sentences of
# 252 characters, 34 evidence terms of a topic, 32 suppressed terms), so they bite only on hostile ones.
MAX_EVENTS_PER_TYPE = 40
MAX_EVENT_SENTENCE = 400  # characters of the event's sentence kept around its trigger
MAX_TOPIC_EVIDENCE = 60
MAX_SUPPRESSED = 100


def tag(article: EnrichedArticle, taxonomy: Taxonomy | None = None) -> TaggedArticle:
    """The article's topics, events, score and traps (see `_tag`), each list bounded."""
    return _bounded(_tag(article, taxonomy))


def _bounded(tagged: TaggedArticle) -> TaggedArticle:
    """The record with the caps above applied; the score was made from everything found."""
    per_type: Counter[str] = Counter()
    events = []
    for ev in tagged.events:
        per_type[ev.type] += 1
        if per_type[ev.type] <= MAX_EVENTS_PER_TYPE:
            events.append(_excerpt(ev))
    topics = [
        t
        if len(t.evidence) <= MAX_TOPIC_EVIDENCE
        else t.model_copy(update={"evidence": t.evidence[:MAX_TOPIC_EVIDENCE]})
        for t in tagged.topics
    ]
    if (
        len(events) == len(tagged.events)
        and all(a is b for a, b in zip(events, tagged.events, strict=True))
        and all(a is b for a, b in zip(topics, tagged.topics, strict=True))
        and len(tagged.suppressed) <= MAX_SUPPRESSED
    ):
        return tagged
    return tagged.model_copy(
        update={
            "events": events,
            "topics": topics,
            "suppressed": tagged.suppressed[:MAX_SUPPRESSED],
        }
    )


def _excerpt(ev: EventMention) -> EventMention:
    """The event with at most MAX_EVENT_SENTENCE characters of its sentence, around the trigger."""
    if len(ev.sentence) <= MAX_EVENT_SENTENCE:
        return ev
    at = max(0, ev.sentence.find(ev.trigger.term))
    lo = max(0, min(at - MAX_EVENT_SENTENCE // 2, len(ev.sentence) - MAX_EVENT_SENTENCE))
    return ev.model_copy(update={"sentence": ev.sentence[lo : lo + MAX_EVENT_SENTENCE]})


def _tag(article: EnrichedArticle, taxonomy: Taxonomy | None) -> TaggedArticle:
    tax = taxonomy or load_taxonomy()
    if article.language not in tax.languages:
        if article.language in NATIVE_LANGUAGES:
            return _tag_native(article, tax)
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
    cues = load_frame()
    genre = article_genre(text, sentences, cues, default_genre_model())

    def trap_of(m: re.Match[str], modal: bool = False) -> Trap:
        trap = trap_for(ctx, m.start(), m.end(), modal)
        if trap is not None:
            suppressed.setdefault(
                (m.start(), m.end()),
                Suppressed(
                    term=m.group(0), start=m.start(), end=m.end(), reason=trap[0], cue=trap[1]
                ),
            )
        return trap

    def kept(m: re.Match[str], modal: bool = False) -> bool:
        return trap_of(m, modal) is None

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
    framing = _Framing(cues, genre, ctx.ref_year, _published(article))
    events, held = _events(tax, ctx, text, places, trap_of, framing)
    if tax.classifier is not None:
        more, more_held = _classified(tax, ctx, text, places, events, suppressed, framing)
        events = sorted(events + more, key=lambda ev: ev.trigger.start)
        held = _once_per_sentence(held + more_held)
    events = with_locations(events, article, text, sentences)
    weights = {e.id: e.weight for e in tax.events}
    # a casualty count in a sentence whose only events were set aside (a storm, a verdict about
    # an old bombing) is not a casualty of anything that alerts
    off = {ev.sentence for ev in held} - {ev.sentence for ev in events}

    def counted(m: re.Match[str], modal: bool = False) -> bool:
        sent = sentence_at(sentences, m.start())
        return kept(m, modal) and (sent is None or sent.text not in off)

    casualties = _max_casualties(tax, text, sentences, counted, article)
    components = _score(tax, text, sentences, events, weights, kept, casualties)
    score = round(max(0.0, min(10.0, sum(c.points for c in components))), 2)
    times = StageTimes(**{**article.times.model_dump(), "tagged": utcnow()})
    return TaggedArticle(
        article=article.model_copy(update={"times": times}),
        topics=topics,
        events=events,
        escalation_score=score,
        score_components=components,
        severity=_severity(severity_for(score, tax), events, components, casualties),
        casualties=casualties,
        suppressed=sorted(suppressed.values(), key=lambda s: s.start),
        suppressed_events=held,
        genre=genre.genre,
        fingerprint=fingerprint_of(article),
    )


MASS_CASUALTIES = 20


def _severity(
    by_score: Severity,
    events: Sequence[EventMention],
    components: Sequence[ScoreComponent],
    casualties: int | None,
) -> Severity:
    """ "critical" is kept for mass casualties, nuclear threats and strategic weapons: a score
    that adds up past the bound from smaller parts (a state actor, a border, three kinds of
    event) is high."""
    if by_score != "critical":
        return by_score
    nuclear = any(e.type == "nuclear-threat" for e in events)
    strategic = any(c.name == "weapon" and c.detail.startswith("strategic") for c in components)
    if nuclear or strategic or (casualties or 0) >= MASS_CASUALTIES:
        return by_score
    return "high"


class _Framing:
    """What every candidate's frame needs besides its own sentence: the cues, the article's
    genre, its publication year and date."""

    def __init__(
        self, cues: FrameCues, genre: GenreCall, ref_year: int | None, published: date | None
    ) -> None:
        self.cues, self.genre, self.ref_year, self.published = cues, genre, ref_year, published
        self.memo: Memo = {}


def _trap_frame(trap: Trap) -> EventFrame:
    """The frame of an event judged by the traps alone (the native lexicons): the trap's axis
    fails with its cue, the others pass."""
    failed = {TRAP_AXIS[trap[0]]: trap} if trap is not None else {}
    return EventFrame(
        **{
            axis: FrameCheck(ok=False, label=failed[axis][0], cue=failed[axis][1], reason="trap")
            if axis in failed
            else FrameCheck(ok=True, label=axis)
            for axis in ("asserted", "current", "literal", "hostile")
        }
    )


def _dated_frame(
    frame: EventFrame,
    text: str,
    sent: Sentence,
    start: int,
    end: int,
    article: EnrichedArticle,
    cues: FrameCues,
) -> EventFrame:
    """The frame axes of a native-language event beyond its lexicon's traps: its language's
    justice, fiction, disaster and accident cues (data/frame.yaml `native:`), and the temporal
    anchoring that needs no English: a numeric year or a date (per-language month names and
    'N units ago') near the trigger, against the publication date."""
    own = native_frame(cues, article.language, sent)
    if own:
        frame = frame.model_copy(update={str(k): v for k, v in own.items()})
    ref = reference_year(article.times)
    y = old_year(sent, start - sent.start, end - sent.start, cues.year_window, ref)
    d = old_date(cues, text, sent, start, end, article.language, _published(article))
    if y is not None:
        check = FrameCheck(
            ok=False,
            label="historical",
            cue=y.group(0),
            start=sent.start + y.start(),
            reason="a past year next to it",
        )
    elif d is not None:
        check = FrameCheck(ok=False, label="historical", cue=d[0], start=d[1], reason=d[2])
    else:
        return frame
    return frame.model_copy(update={"current": check})


def _tag_native(article: EnrichedArticle, tax: Taxonomy) -> TaggedArticle:
    """An article in one of the languages with a native lexicon (services/text/data/lexicons/):
    the same event types, traps, score parts and severity bounds as English, from the native
    triggers; evidence sentences stay in the article's language."""
    text = article_text(article)
    cues = load_frame()
    found = assess(text, article.language, reference_year(article.times))
    by_id = {e.id: e for e in tax.events}
    places = _places(article)
    sentences = Sentences(sentences_of(article, text))
    events: list[EventMention] = []
    held: list[EventMention] = []
    for h in found.hits:
        if h.event not in by_id:
            continue
        kind = by_id[h.event]
        sent = sentence_at(sentences, h.start)
        actor, target = (
            _actor_target(places, sent, h.start, h.end, text) if sent is not None else (None, None)
        )
        trap = (cast(TrapReason, h.suppressed), h.cue or "") if h.suppressed else None
        frame = _trap_frame(trap)
        if trap is None and sent is not None:
            frame = _dated_frame(frame, text, sent, h.start, h.end, article, cues)
        (held if not frame.ok else events).append(
            EventMention(
                type=kind.id,
                label=kind.label,
                cameo=kind.cameo,
                trigger=Evidence(term=h.text, start=h.start, end=h.end),
                sentence=h.sentence,
                actor=actor,
                target=target,
                frame=frame,
            )
        )
    events = with_locations(events, article, text, sentences)
    score, severity, parts = found.score, cast(Severity, found.severity), found.parts
    if not any(by_id[e.type].weight > 0 for e in events) and any(
        by_id[e.type].weight > 0 and e.frame is not None and e.frame.trap_free for e in held
    ):
        # every violent event the lexicon found is set aside by its date: nothing to score
        score, severity, parts = 0.0, "low", [("event", 0.0, "frame: dated before publication")]
    suppressed = [
        Suppressed(
            term=h.text,
            start=h.start,
            end=h.end,
            reason=cast(TrapReason, h.suppressed),
            cue=h.cue or "",
        )
        for h in found.hits
        if h.suppressed is not None
    ]
    times = StageTimes(**{**article.times.model_dump(), "tagged": utcnow()})
    return TaggedArticle(
        article=article.model_copy(update={"times": times}),
        events=events,
        escalation_score=score,
        score_components=[ScoreComponent(name=n, points=p, detail=d) for n, p, d in parts],
        severity=severity,
        casualties=found.casualties,
        suppressed=sorted(suppressed, key=lambda x: x.start),
        suppressed_events=_once_per_sentence(held),
        fingerprint=fingerprint_of(article),
    )


def _events(
    tax: Taxonomy,
    ctx: Context,
    text: str,
    places: list[tuple[int, int, str]],
    trap_of: TrapOf,
    framing: _Framing,
) -> tuple[list[EventMention], list[EventMention]]:
    """The rule detector's candidates, each with its frame: (those that pass, those it set aside)."""
    found: list[EventMention] = []
    held: list[EventMention] = []
    by_id = {e.id: e for e in tax.events}
    for e in tax.events:
        for m in sentence_matches(e.pattern, text, ctx.sentences):
            trap = trap_of(m, e.modal)
            if _overlaps(e.exclude, text, m):
                continue
            sent = sentence_at(ctx.sentences, m.start())
            if sent is None:
                continue
            if e.requires is not None and not e.requires.search(_around(ctx.sentences, sent, text)):
                continue
            if e.unless is not None and e.unless.search(sent.text):
                continue
            actor, target = _actor_target(places, sent, m.start(), m.end(), text)
            # a generic trigger ("struck") with a weapon in its sentence is that weapon's event type
            kind = next((by_id[r] for r, p in e.refine if p.search(sent.text)), e)
            framed = _frame(framing, text, sent, m.start(), m.end(), trap, kind.id, e.modal)
            kind = by_id[framed.retype] if framed.retype else kind
            (found if framed.frame.ok else held).append(
                EventMention(
                    type=kind.id,
                    label=kind.label,
                    cameo=kind.cameo,
                    trigger=Evidence(term=m.group(0), start=m.start(), end=m.end()),
                    sentence=sent.text,
                    actor=actor,
                    target=target,
                    frame=framed.frame,
                )
            )
    return _distinct(found), _once_per_sentence(_distinct(held))


def _frame(
    framing: _Framing,
    text: str,
    sent: Sentence,
    start: int,
    end: int,
    trap: Trap,
    kind: str,
    modal: bool = False,
) -> FrameResult:
    f = framing
    return frame_of(
        f.cues,
        text,
        sent,
        start,
        end,
        trap,
        kind,
        f.genre,
        f.ref_year,
        "en",
        f.published,
        f.memo,
        modal,
    )


def _published(article: EnrichedArticle) -> date | None:
    """The article's own publication date (not a processing time: see traps.reference_year)."""
    stamp = article.times.published or article.times.ingested
    return stamp.date() if stamp is not None else None


def _once_per_sentence(held: list[EventMention]) -> list[EventMention]:
    """A set-aside event once per (type, sentence): three triggers of one bombing in one sentence
    are one candidate to explain."""
    first: dict[tuple[str, str], EventMention] = {}
    for ev in held:
        first.setdefault((ev.type, ev.sentence), ev)
    return sorted(first.values(), key=lambda ev: ev.trigger.start)


def _distinct(found: list[EventMention]) -> list[EventMention]:
    """One event per (type, trigger); the generic "attack" only where no specific violent event
    explains the sentence."""
    specific = {ev.sentence for ev in found if ev.type != "attack"}
    found = [ev for ev in found if ev.type != "attack" or ev.sentence not in specific]
    unique = {(ev.type, ev.trigger.start): ev for ev in found}
    return sorted(unique.values(), key=lambda ev: ev.trigger.start)


_TERM_WORD = re.compile(r"[^\W\d_]+")


def _classified(
    tax: Taxonomy,
    ctx: Context,
    text: str,
    places: list[tuple[int, int, str]],
    found: list[EventMention],
    suppressed: dict[tuple[int, int], Suppressed],
    framing: _Framing,
) -> tuple[list[EventMention], list[EventMention]]:
    """The second detector: a sentence no trigger explained, that the learned classifier scores
    at or above the taxonomy's `classifier.min_probability`, is an event of the classifier's type
    (refined by the sentence's weapon). The traps judge it as they judge a trigger: the sentence's
    own (historical, figurative, peaceful), and negation and hypotheticals at its strongest term."""
    spec = tax.classifier
    assert spec is not None
    model = default_model()
    by_id = {e.id: e for e in tax.events}
    base = by_id[spec.event]
    explained = {ev.sentence for ev in found}
    out: list[EventMention] = []
    held: list[EventMention] = []
    for sent in ctx.sentences:
        if sent.text in explained or len(sent.text) < 25:
            continue
        gate = None
        if tax.classifier_requires is not None:
            gate = tax.classifier_requires.search(sent.text)
            if gate is None:
                continue
        if model.score(sent.text) < spec.min_probability:
            continue
        pred = model.predict(sent.text)
        # the traps look where the violence word stands ("do not need to attack")
        if gate is not None:
            start, end = sent.start + gate.start(), sent.start + gate.end()
        else:
            start, end = _strongest(sent, pred.terms)
        trap = ctx.sentence_trap(sent) or trap_for(ctx, start, end)
        if trap is not None:
            suppressed.setdefault(
                (start, end),
                Suppressed(term=text[start:end], start=start, end=end, reason=trap[0], cue=trap[1]),
            )
        kind = next((by_id[r] for r, pat in base.refine if pat.search(sent.text)), base)
        framed = _frame(framing, text, sent, start, end, trap, kind.id)
        kind = by_id[framed.retype] if framed.retype else kind
        actor, target = _actor_target(places, sent, start, end, text)
        (out if framed.frame.ok else held).append(
            EventMention(
                type=kind.id,
                label=kind.label,
                cameo=kind.cameo,
                trigger=Evidence(term=text[start:end], start=start, end=end),
                sentence=sent.text,
                actor=actor,
                target=target,
                detector="classifier",
                probability=round(pred.probability, 3),
                weights=[TermWeight(term=t, weight=w) for t, w in pred.terms],
                frame=framed.frame,
            )
        )
    return out, held


def _strongest(sent: Sentence, terms: Sequence[tuple[str, float]]) -> tuple[int, int]:
    """Where in the text the classifier's strongest term that is a word of the sentence stands
    (a stem "fir*" finds "fired"); the whole sentence when none is."""
    low = sent.text.lower()
    for term, _ in terms:
        for word in _TERM_WORD.findall(term.replace("<num>", "")):
            at = re.search(r"\b" + re.escape(word) + r"\w*", low)
            if at is not None:
                return sent.start + at.start(), sent.start + at.end()
    return sent.start, sent.end


def _around(sentences: Sequence[Sentence], sent: Sentence, text: str) -> str:
    """The sentence with the one before and the one after: who did it is often named next door
    ("Maoists stormed the camp. They set fire to six trucks.")."""
    i = sentences.index(sent)
    lo = sentences[i - 1].start if i > 0 else sent.start
    hi = sentences[i + 1].end if i + 1 < len(sentences) else sent.end
    return text[lo:hi]


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
