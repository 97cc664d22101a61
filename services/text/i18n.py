"""Native escalation detection for non-English articles: `detect(text, language) -> list[Hit]`.

The same steps as the English engine (services/tagging/core.py), driven by a language's lexicon
(services/text/lexicon.py): every trigger is checked against the traps in its own sentence
(peaceful and figurative phrases, historical cues, figurative or peaceful context without a hard
conflict word, negation and denial before or after it in its clause, hypothetical cues), and a
suppressed trigger is kept with its reason so a missing alert can be explained. Weights, severity
bounds and score parts come from the English taxonomy, so scores mean the same in every language.
Its precision and recall per language: services/offline/i18n_eval.py.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import yaml

from services.text.lexicon import TAXONOMY, Folded, Lexicon, fold, load, requirements
from services.text.phrases import bounded_spans
from services.text.places_i18n import find_places
from services.text.sentences import split_spans_any_script

_TOKEN = re.compile(r"\w+(?:['-]\w+)*")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_NUMBER = re.compile(r"\d+(?:[ ,.\u00a0\u202f]\d{3})*(?!\d)")
_ZH_NUMBER = re.compile(r"[0-9]+|[零〇一二两三四五六七八九十百千万]+")
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_ZH_DIGITS |= {"七": 7, "八": 8, "九": 9}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}


# ---- the result ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Hit:
    """One event trigger: offsets into the original text, and why it does not count if so."""

    event: str
    start: int
    end: int
    text: str
    sentence: str
    sentence_start: int
    suppressed: str | None = None  # negated, hypothetical, historical, metaphor, peaceful
    cue: str | None = None  # the words that set the trap off
    casualties: int | None = None  # the largest count stated in the sentence


@dataclass(frozen=True)
class Assessment:
    """What tag() needs for a non-English article: events, casualties, score and severity."""

    language: str
    hits: list[Hit]
    casualties: int | None
    score: float
    severity: str
    parts: list[tuple[str, float, str]]

    @property
    def events(self) -> list[Hit]:
        return [h for h in self.hits if h.suppressed is None]

    @property
    def escalation(self) -> bool:
        weights = _config().weights
        return any(weights[h.event] > 0 for h in self.events)

    @property
    def top_event(self) -> str | None:
        weights = _config().weights
        violent = [h for h in self.events if weights[h.event] > 0]
        return max(violent, key=lambda h: weights[h.event]).event if violent else None


@dataclass(frozen=True)
class _Config:
    """What the English taxonomy fixes for every language."""

    weights: dict[str, float]
    modal: frozenset[str]
    # by event: the context set (armed_context, contexts/<name>) one of whose words must be in its
    # sentence or the one before or after it
    requires: dict[str, str]
    weapons: tuple[tuple[str, float], ...]
    score: dict[str, Any]
    casualty_points: tuple[tuple[int, float], ...]
    thresholds: tuple[tuple[float, str], ...]


@lru_cache(maxsize=1)
def _config() -> _Config:
    doc = yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))
    events = doc["events"]
    sev = doc["severity"]
    return _Config(
        weights={k: float(v["weight"]) for k, v in events.items()},
        modal=frozenset(k for k, v in events.items() if v.get("modal")),
        requires=requirements(),
        weapons=tuple((k, float(v["weight"])) for k, v in doc["weapons"].items()),
        score=doc["score"],
        casualty_points=tuple((int(a), float(b)) for a, b in doc["score"]["casualties"]),
        thresholds=tuple((float(sev[k]), k) for k in ("critical", "high", "medium") if k in sev),
    )


# ---- one article --------------------------------------------------------------------------
@dataclass
class _Article:
    """An article folded and split once; matches of each phrase set found on first use."""

    lex: Lexicon
    folded: Folded
    year: int | None
    sents: list[tuple[int, int]] = field(init=False)
    starts: list[int] = field(init=False)
    cands: dict[str, list[int]] = field(init=False)
    _found: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    _sentence_trap: dict[int, tuple[str, str] | None] = field(default_factory=dict)
    _counts: dict[tuple[int, int], int | None] = field(default_factory=dict)
    _starts: dict[str, list[int]] = field(default_factory=dict)
    _verdicts: dict[tuple[int, int, bool], tuple[str, str] | None] = field(default_factory=dict)
    _sentence_counts: dict[int, int | None] = field(default_factory=dict)
    _countries: dict[int, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # the matchers read no sentence longer than MAX_SENTENCE (a 300 KB one cost seconds)
        self.sents = bounded_spans(self.folded.text, split_spans_any_script(self.folded.text))
        self.starts = [s for s, _ in self.sents]
        self.cands = self.lex.scanner.candidates(self.folded.text)

    @property
    def text(self) -> str:
        return self.folded.text

    def spans(self, name: str) -> list[tuple[int, int]]:
        if name not in self._found:
            self._found[name] = self.lex.scanner.matches(name, self.text, self.cands)
        return self._found[name]

    def sentence(self, at: int) -> tuple[int, int] | None:
        k = bisect_right(self.starts, at) - 1
        return self.sents[k] if k >= 0 and at < self.sents[k][1] else None

    def around(self, sent: tuple[int, int]) -> tuple[int, int]:
        """A sentence with the one before and the one after (who did it is often named next
        door, as in the English engine)."""
        k = bisect_left(self.starts, sent[0])
        lo = self.sents[k - 1][0] if k > 0 else sent[0]
        hi = self.sents[k + 1][1] if k + 1 < len(self.sents) else sent[1]
        return lo, hi

    def first_in(self, name: str, sent: tuple[int, int]) -> tuple[int, int] | None:
        """The first match of a set inside a sentence: by bisection over the set's starts."""
        spans = self.spans(name)
        if not spans:
            return None
        starts = self._starts.get(name)
        if starts is None:
            starts = self._starts[name] = [a for a, _ in spans]
        for k in range(bisect_left(starts, sent[0]), len(spans)):
            a, b = spans[k]
            if a >= sent[1]:
                break
            if b <= sent[1]:
                return a, b
        return None

    @cached_property
    def phrase_traps(self) -> list[tuple[int, int, str]]:
        out = [(a, b, "peaceful") for a, b in self.spans("traps/peaceful/phrases")]
        return out + [(a, b, "metaphor") for a, b in self.spans("traps/metaphor/phrases")]

    def sentence_trap(self, sent: tuple[int, int]) -> tuple[str, str] | None:
        """The traps a whole sentence sets off, whatever term in it is checked."""
        if sent[0] in self._sentence_trap:
            return self._sentence_trap[sent[0]]
        found: tuple[str, str] | None = None
        if (h := self.first_in("traps/historical/cues", sent)) is not None:
            found = "historical", self.text[h[0] : h[1]]
        elif self.year is not None and (
            y := next(
                (
                    y
                    for y in _YEAR.finditer(self.text, sent[0], sent[1])
                    if int(y.group(1)) <= self.year - self.lex.model.traps.historical.years_back
                ),
                None,
            )
        ):
            found = "historical", y.group(0)
        elif self.first_in("traps/metaphor/hard", sent) is None:
            for name, reason in (
                ("traps/metaphor/context", "metaphor"),
                ("traps/peaceful/context", "peaceful"),
            ):
                if (c := self.first_in(name, sent)) is not None:
                    found = reason, self.text[c[0] : c[1]]
                    break
        self._sentence_trap[sent[0]] = found
        return found

    def _words(self, s: str) -> list[str]:
        return _TOKEN.findall(s)

    def trap(self, start: int, end: int, modal: bool) -> tuple[str, str] | None:
        """Why the term at [start, end) does not count, or None when it does (memoised: events,
        casualties and weapons share terms)."""
        key = (start, end, modal)
        if key not in self._verdicts:
            self._verdicts[key] = self._trap(start, end, modal)
        return self._verdicts[key]

    def _trap(self, start: int, end: int, modal: bool) -> tuple[str, str] | None:
        for a, b, reason in self.phrase_traps:
            if a < end and start < b:
                return reason, self.text[a:b]
        sent = self.sentence(start)
        if sent is None:
            return None
        if (found := self.sentence_trap(sent)) is not None:
            return found
        lex, text = self.lex, self.text
        t = lex.model.traps
        before = text[sent[0] : start]
        clause = lex.clause.split(before)[-1]
        term = text[start:end]
        rest = lex.clause.split(text[end : sent[1]], maxsplit=1)[0]
        spaced = lex.model.spaced
        neg = _window(clause, t.negation.window, spaced) + " " + term
        if (m := lex.negation.search(neg)) is not None:
            return "negated", m.group(0)
        nxt = _head(rest, t.negation.after_window, spaced)
        if lex.negation_after is not None and (m := lex.negation_after.search(nxt)) is not None:
            return "negated", m.group(0)
        if not modal:
            hyp = _window(before, t.hypothetical.window, spaced)
            if (m := lex.hypothetical.search(hyp)) is not None:
                return "hypothetical", m.group(0)
            nxt = _head(rest, t.hypothetical.after_window, spaced)
            if (
                lex.hypothetical_after is not None
                and (m := lex.hypothetical_after.search(nxt)) is not None
            ):
                return "hypothetical", m.group(0)
        return None

    def count_near(self, start: int, end: int, sent: tuple[int, int]) -> int | None:
        """The largest number among the six words before the term or the four after it
        (memoised: the hits of a sentence and the article's count share the same terms)."""
        key = (start, end)
        if key not in self._counts:
            self._counts[key] = self._count_near(start, end, sent)
        return self._counts[key]

    def sentence_count(self, sent: tuple[int, int]) -> int | None:
        """The largest count stated in a sentence; 0 when a casualty term has no number."""
        if sent[0] in self._sentence_counts:
            return self._sentence_counts[sent[0]]
        counts = [
            self.count_near(x, y, sent)
            for x, y in self.spans("casualties/terms")
            if x >= sent[0] and y <= sent[1]
        ]
        known = [c for c in counts if c is not None]
        found = max(known) if known else (0 if counts else None)
        self._sentence_counts[sent[0]] = found
        return found

    def countries(self, sent: tuple[int, int]) -> set[str]:
        """The countries named in a sentence (memoised by sentence)."""
        if sent[0] not in self._countries:
            a, b = self.folded.span(*sent)
            found = find_places(self.folded.original[a:b], self.lex.language)
            self._countries[sent[0]] = {p.country for p in found}
        return self._countries[sent[0]]

    def _count_near(self, start: int, end: int, sent: tuple[int, int]) -> int | None:
        text = self.text
        if not self.lex.model.spaced:
            near = text[max(sent[0], start - 12) : start] + " " + text[end : min(sent[1], end + 8)]
            values = [_zh_number(m.group(0)) for m in _ZH_NUMBER.finditer(near)]
        else:
            head = text[max(sent[0], start - 80) : start]
            tail = text[end : min(sent[1], end + 60)]
            values = [_number(w, self.lex) for w in _number_tokens(head)[-6:]]
            values += [_number(w, self.lex) for w in _number_tokens(tail)[:4]]
        known = [v for v in values if v is not None and not (1900 <= v <= 2100)]
        return max(known) if known else None


def _number_tokens(s: str) -> list[str]:
    """Words, with a number's thousands separators kept inside it ("1 200", "1.200")."""
    return [m.group(0) for m in re.finditer(r"\d+(?:[ ,.\u00a0\u202f]\d{3})*(?!\d)|\w+", s)]


def _number(word: str, lex: Lexicon) -> int | None:
    if word[0].isdigit():
        return int(re.sub(r"\D", "", word))
    exact, prefixes = _number_table(lex.language)
    if (value := exact.get(word)) is not None:
        return value
    for key, value in prefixes:
        if word.startswith(key):
            return value
    # a clitic before a number word (Arabic "بخمسة", Hebrew "ב־12")
    for p in lex.model.prefixes:
        if word.startswith(p) and len(word) > len(p) + 1:
            return _number(word[len(p) :], lex) if word[len(p)].isalnum() else None
    return None


@lru_cache(maxsize=16)
def _number_table(language: str) -> tuple[dict[str, int], tuple[tuple[str, int], ...]]:
    """Exact number words by word, and the prefix ones longest first."""
    lex = load(language)
    exact = {k: v for k, prefix, v in lex.number_words if not prefix}
    return exact, tuple((k, v) for k, prefix, v in lex.number_words if prefix)


def _zh_number(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    total, section, digit = 0, 0, 0
    for ch in s:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        elif ch == "万":
            total += (section + digit) * 10000
            section, digit = 0, 0
        else:
            section += (digit or 1) * _ZH_UNITS[ch]
            digit = 0
    return total + section + digit or None


def _window(prefix: str, n: int, spaced: bool) -> str:
    if not spaced:
        return prefix[-2 * n :]
    return " ".join(_TOKEN.findall(prefix)[-n:])


def _head(rest: str, n: int, spaced: bool) -> str:
    if not spaced:
        return rest[: 2 * n]
    return " ".join(_TOKEN.findall(rest)[:n])


def _article(text: str, language: str, year: int | None) -> _Article:
    return _Article(load(language), fold(text), year)


def detect(text: str, language: str, year: int | None = None) -> list[Hit]:
    """Every event trigger in `text` (suppressed ones too, with the reason), in text order.

    `year` is the article's year: a year this much older in a sentence makes it historical.
    """
    return _detect(_article(text, language, year))


def _detect(art: _Article) -> list[Hit]:
    cfg = _config()
    events = art.lex.model.events
    found: list[Hit] = []
    for eid, ev in events.items():
        spans = art.spans(f"events/{eid}/triggers")
        if not spans:
            continue
        for start, end in spans:
            sent = art.sentence(start)
            if sent is None or end > sent[1]:
                continue
            if ev.exclude and art.first_in(f"events/{eid}/exclude", sent) is not None:
                continue
            if (need := cfg.requires.get(eid)) and art.first_in(need, art.around(sent)) is None:
                continue
            # a generic trigger ("ударили") with a weapon in its sentence is that weapon's event
            kind = next(
                (rid for rid in ev.refine if art.first_in(f"events/{eid}/refine/{rid}", sent)),
                eid,
            )
            trap = art.trap(start, end, kind in cfg.modal)
            found.append(_hit(art, kind, start, end, sent, trap))
    # the generic "attack" only counts where no specific violent event explains the sentence
    specific = {h.sentence_start for h in found if h.event != "attack" and h.suppressed is None}
    found = [h for h in found if h.event != "attack" or h.sentence_start not in specific]
    unique = {(h.event, h.start): h for h in found}
    return sorted(unique.values(), key=lambda h: (h.start, h.event))


def _hit(
    art: _Article,
    event: str,
    start: int,
    end: int,
    sent: tuple[int, int],
    trap: tuple[str, str] | None,
) -> Hit:
    f = art.folded
    a, b = f.span(start, end)
    sa, sb = f.span(*sent)
    return Hit(
        event=event,
        start=a,
        end=b,
        text=f.original[a:b],
        sentence=f.original[sa:sb],
        sentence_start=sa,
        suppressed=trap[0] if trap else None,
        cue=trap[1] if trap else None,
        casualties=art.sentence_count(sent),
    )


def casualties(text: str, language: str, year: int | None = None) -> int | None:
    """The largest stated count of killed or wounded; 0 when mentioned without a number, None
    when not mentioned (as the English engine; trapped mentions do not count)."""
    return _casualties(_article(text, language, year))


def _casualties(art: _Article) -> int | None:
    counts: list[int | None] = []
    for start, end in art.spans("casualties/terms"):
        sent = art.sentence(start)
        if sent is None or art.trap(start, end, False) is not None:
            continue
        counts.append(art.count_near(start, end, sent))
    known = [c for c in counts if c is not None]
    if known:
        return max(known)
    return 0 if counts else None


def assess(text: str, language: str, year: int | None = None) -> Assessment:
    """Events, casualties, escalation score and severity of one article, scored as in English."""
    art = _article(text, language, year)
    hits = _detect(art)
    dead = _casualties(art)
    parts = _score(art, hits, dead)
    score = round(max(0.0, min(10.0, sum(p for _, p, _ in parts))), 2)
    severity = next((name for bound, name in _config().thresholds if score >= bound), "low")
    return Assessment(language, hits, dead, score, severity, parts)


def _score(art: _Article, hits: list[Hit], dead: int | None) -> list[tuple[str, float, str]]:
    cfg = _config()
    violent = [h for h in hits if h.suppressed is None and cfg.weights[h.event] > 0]
    if not violent:
        return [("event", 0.0, "no violent event")]
    top = max(violent, key=lambda h: cfg.weights[h.event])
    parts = [("event", cfg.weights[top.event], f"{top.event}: «{top.text}»")]
    if dead is not None:
        points = 0.0
        for bound, p in cfg.casualty_points:
            if dead >= bound:
                points = p
        parts.append(("casualties", points, str(dead)))
    for wid, weight in cfg.weapons:
        terms = art.spans(f"weapons/{wid}")
        if any(art.trap(a, b, False) is None for a, b in terms):
            parts.append(("weapon", weight, wid))
            break
    s = cfg.score
    if any(h.event in s["nuclear_language"]["events"] for h in violent):
        parts.append(("nuclear", float(s["nuclear_language"]["weight"]), "nuclear"))
    # actors: the countries named in the violent events' sentences, as enrichment would find them
    countries: set[str] = set()
    pairs = False
    by_start = {art.folded.span(*x)[0]: x for x in art.sents}  # Hit offsets are the original's
    for h in violent:
        sent = by_start.get(h.sentence_start)
        named = art.countries(sent) if sent is not None else set()
        countries |= named
        pairs = pairs or len(named) >= 2
    if countries:
        parts.append(("state_actor", float(s["state_actor"]), ", ".join(sorted(countries))))
    if pairs:
        parts.append(("cross_border", float(s["cross_border"]), "two countries"))
    if len({h.event for h in violent}) >= int(s["breadth"]["min_types"]):
        parts.append(("breadth", float(s["breadth"]["weight"]), "three event types"))
    return parts
