"""The traps: why a term found in an article does not count -- negated or denied, hypothetical,
historical, figurative (sport, business, entertainment) or peaceful (space flight, nuclear power).

Shared by tagging (event terms) and alerts (rule phrases), so that both judge a term alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache

from schemas import StageTimes
from schemas.tagged import TrapReason
from services.text.phrases import phrase_starts, search_from, sentence_matches
from services.text.sentences import Sentence, Sentences, sentence_at, tokens
from services.text.taxonomy import Pattern, Traps

_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)s?\b")
# (the look-ahead holds every alternative's first character: it lets the scan skip the others)
_CLAUSE = re.compile(
    r"(?=[bhwat;:—])(?:\b(?:but|however|while|although|whereas|after|then)\b|[;:—])", re.I
)
_CLAUSE_AFTER = re.compile(r"[,;:]|\b(?:but|and|while|after)\b")
_NT = re.compile("n't")


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
        """The traps the sentence sets off as a whole; a headline (the first sentence, terse)
        also takes the figurative or peaceful setting of the lead sentence after it."""
        if sent.start not in self.sentence_traps:
            found = self._own_trap(sent)
            if found is None and self.sentences and sent == self.sentences[0]:
                lead = self._own_trap(self.sentences[1]) if len(self.sentences) > 1 else None
                if lead is not None and lead[0] in ("metaphor", "peaceful"):
                    found = lead
            self.sentence_traps[sent.start] = found
        return self.sentence_traps[sent.start]

    def _own_trap(self, sent: Sentence) -> tuple[TrapReason, str] | None:
        starts = self._sentence_starts
        if starts is None:
            return _sentence_trap(sent.text, self.ref_year, self.traps)
        return _sentence_trap_at(self.text, sent, self.ref_year, self.traps, starts)


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


def reference_year(times: StageTimes) -> int | None:
    """The year 'now' is for the article, to tell an old year mentioned in it from a recent one.

    Only the article's own times count: a processing time would make an archive's years look old.
    """
    stamp: datetime | None = times.published or times.ingested
    return stamp.year if stamp is not None else None
