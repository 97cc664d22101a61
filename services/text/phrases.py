"""The phrase language of the taxonomy and the rules: words matched case-insensitively on word
boundaries, `word*` for any ending, `...` for a short gap inside a clause; compiled once per phrase
set, with anchors that let most texts skip the regex."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import ahocorasick

from services.text.sentences import Sentence, Sentences

# ---- the phrase language ------------------------------------------------------------------
# A phrase is words separated by spaces, matched case-insensitively on word boundaries.
# `word*` matches any word starting with `word`; `...` matches a gap of up to four words.
# Every separator and gap below is written so that the regex engine has one way to read each
# stretch of text (possessive runs, atomic words): the old `(?:SEP word(?:-word)*){0,7}?` could split
# `-a-a-a-...` between words and separators in exponentially many ways (issue 27: 121 bytes cost the
# tagging worker 10 s). The matches are the same: see gap_regex.
_SEP = r"[^\w.!?;:]++"  # between words; callers drop matches that cross sentences
# `...`: up to GAP_WORDS words inside the clause -- real sentences put a subject, a number and an
# adjective between a verb and its object ("fired three more Iranian-made ballistic missiles")
GAP_WORDS = 7
# A bound on what one matcher attempt reads, so that a search costs a constant per start: a word
# of a gap, or the ending a `word*` takes, has at most MAX_JOINTS hyphens or apostrophes
# ("state-of-the-art" has three); a longer run is read as several words.
MAX_JOINTS = 6
# The ending of `word*`, the old `[\w'’-]*`: what follows it is never a word character, so it ends
# only after a whole run of word characters (possessive) or inside a run of up to three joints.
_ENDING = r"\w*+(?:[-'’]{1,3}\w*+){0," + str(MAX_JOINTS) + "}"
# The longest sentence the matchers read: enrichment cuts longer ones (at a space) into pieces of
# at most this many characters, as a run of text without punctuation is no sentence.
MAX_SENTENCE = 1000
_GAP_WORD = re.compile(r"\.\.\.\d*")


@lru_cache(maxsize=4096)
def inflections(lemma: str) -> tuple[str, ...]:
    """Every form of an English lemma as a noun and a verb ("strike": strikes, struck, striking,
    stricken), longest first: `~strike` in a phrase stands for all of them. From lemminflect's
    tables, with its rules for words it does not know."""
    from lemminflect import getAllInflections, getAllInflectionsOOV

    found = getAllInflections(lemma)
    if not found:
        found = {**getAllInflectionsOOV(lemma, "NOUN"), **getAllInflectionsOOV(lemma, "VERB")}
    forms = {lemma, *(f for fs in found.values() for f in fs)}
    return tuple(sorted(forms, key=lambda f: (-len(f), f)))


_LEMMA = re.compile(r"[^\W\d_][\w'-]*")


def expand(phrase: str) -> list[str]:
    """A phrase with `~lemma` words as the phrases of every combination of their forms, so the
    anchors and the regex see plain words (expanded once, when the taxonomy or rules load)."""
    if "~" not in phrase:
        return [phrase]
    out = [""]
    for w in phrase.split():
        forms: tuple[str, ...] = (w,)
        if w.startswith("~") and len(w) > 1:
            star = w.endswith("*")
            lemma = w[1:].rstrip("*")
            if not _LEMMA.fullmatch(lemma):
                raise ValueError(f"bad phrase {phrase!r}: {w!r} is not ~ and a word")
            forms = tuple(f + ("*" if star else "") for f in inflections(lemma))
        out = [f"{o} {f}".strip() for o in out for f in forms]
    return out


def bounded_spans(text: str, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The sentence spans with every one longer than MAX_SENTENCE cut into pieces at most that
    long, at the last space before the limit when there is one in its second half."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        while b - a > MAX_SENTENCE:
            cut = text.rfind(" ", a + MAX_SENTENCE // 2, a + MAX_SENTENCE)
            cut = cut if cut > a else a + MAX_SENTENCE
            out.append((a, cut))
            a = cut
            while a < b and text[a].isspace():
                a += 1
        if b > a:
            out.append((a, b))
    return out


def gap_regex(sep: str, word: str, joint: str, n: int) -> str:
    """A gap of at most `n` words (`word` runs joined by single `joint` characters), `sep`
    (possessive) between them and after the last, in time linear in the text.

    The lazy `(?:sep word(?:joint word)*){0,n}? sep` it replaces reads a hyphenated run as one
    word or several; the continuation after the gap depends only on where the gap ends, so only
    the fewest words that reach each end matter: whole runs, except the last word, which may end
    at any joint inside its run (the next phrase word starting mid-run: "attacks on pro-Israel").
    Tried in the old order: fewer words first, and for each count the whole last run before its
    shorter prefixes. Every run but the last is atomic, so no text is read more than n ways."""
    joints = f"(?:{joint}{word}){{0,{MAX_JOINTS}}}"
    whole = f"(?>{word}{joints})"
    last = word + joints  # backtracks only over its own joints
    if n <= 0:
        return sep
    return f"(?:(?:{sep}{whole}){{0,{n - 1}}}?{sep}{last})??{sep}"


def _word(w: str) -> str:
    if w.startswith("~") and len(w) > 1:
        return "(?:" + "|".join(_word(f) for f in expand(w)) + ")"
    if w.endswith("*") and len(w) > 1:
        return re.escape(w[:-1]) + _ENDING
    return re.escape(w)


def phrase_regex(phrase: str) -> str:
    words = phrase.split()
    if not words or _GAP_WORD.fullmatch(words[0]) or _GAP_WORD.fullmatch(words[-1]):
        raise ValueError(f"bad phrase {phrase!r}: empty, or starts or ends with '...'")
    parts: list[str] = []
    gap: str | None = None
    for w in words:
        if _GAP_WORD.fullmatch(w):
            n = int(w[3:]) if len(w) > 3 else GAP_WORDS  # `...3`: a gap of at most three words
            gap = gap_regex(_SEP, r"\w++", "[-'’]", n)
            continue
        if parts:
            parts.append(gap if gap is not None else r"[ \t-]++")
        parts.append(_word(w))
        gap = None
    return "".join(parts)


# Patterns made by compile_phrases, with the literal starts of their phrases (see sentence_matches).
_ANCHORS: dict[re.Pattern[str], frozenset[str]] = {}
# Under re.I these match an ASCII letter although their lower() is another one ("ı" ~ "i", "ſ" ~ "s"),
# and "İ".lower() is two characters (offsets would shift): texts with them take the plain path.
_FOLD_TRAPS = re.compile("[\u0130\u0131\u017f]")
_NOT_WORD = re.compile(r"[^\w-]")
_GENERATION = [0]  # bumped when a new phrase set adds anchors, so cached positions are redone


@lru_cache(maxsize=4096)
def compile_phrases(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation of all phrases, longest first, so the widest match wins."""
    phrases = tuple(x for p in phrases for x in expand(p.strip()))
    alts = sorted({phrase_regex(p.strip()) for p in phrases if p.strip()}, key=len, reverse=True)
    if not alts:
        return None
    # a look-ahead with every phrase's first character lets a search skip the others; only for
    # ASCII ones, whose case-folding in a class is the same as in a literal (checked for all)
    firsts = {p.split()[0][0] for p in phrases if p.strip()}
    ahead = "(?=[" + re.escape("".join(sorted(firsts))) + "])" if "".join(firsts).isascii() else ""
    pattern = re.compile(ahead + r"(?<![\w-])(?:" + "|".join(alts) + r")(?![\w])", re.I)
    keys = _anchor_keys(phrases)
    if keys is not None:
        _ANCHORS[pattern] = keys
        _anchor_automaton.cache_clear()
        _GENERATION[0] += 1
    return pattern


@lru_cache(maxsize=256)
def _lower(text: str) -> str:
    """Memoised: every phrase set's pre-check of one article lower-cases the same text."""
    return text.lower()


def _anchor_keys(phrases: tuple[str, ...]) -> frozenset[str] | None:
    """What a match's start looks like in `_word_starts(text)`: a space (the look-behind's
    non-word character), the first word's literal start, and after a word without `*` a space
    or a hyphen (the phrase's separator or its final look-ahead). None when not plain ASCII."""
    keys: set[str] = set()
    for p in phrases:
        if not p.strip():
            continue
        first = p.split()[0]
        star = first.endswith("*") and len(first) > 1
        lit = (first[:-1] if star else first).lower()
        if not lit.isascii():
            return None
        base = " " + _NOT_WORD.sub(" ", lit)
        keys |= {base} if star else {base + " ", base + "-"}
    return frozenset(keys)


def _anchor(phrase: str) -> str:
    """The literal start of a phrase's first word: text without it cannot match the phrase."""
    return phrase.split()[0].rstrip("*").lower()


@dataclass(frozen=True)
class Phrases:
    """A compiled phrase set that skips the regex when no phrase's first word occurs in the text.

    Most articles mention few of the taxonomy's phrases; a substring test per anchor is far cheaper
    than running a large alternation over every position of a long text.
    """

    pattern: re.Pattern[str]
    anchors: tuple[str, ...]

    @classmethod
    def of(cls, phrases: Iterable[str]) -> Phrases:
        ps = tuple(x for p in phrases if str(p).strip() for x in expand(str(p).strip()))
        pattern = compile_phrases(ps)
        if pattern is None:
            raise ValueError(f"empty phrase list {list(phrases)!r}")
        return cls(pattern, tuple(sorted({_anchor(p) for p in ps})))

    @cached_property
    def _anchor_automaton(self) -> ahocorasick.Automaton | None:
        """`any(a in low for a in anchors)` as one scan: the trap cues are long lists.
        None when an anchor is empty (a phrase starting with '*'), which every text contains."""
        if "" in self.anchors:
            return None
        auto = ahocorasick.Automaton()
        for a in self.anchors:
            auto.add_word(a, a)
        auto.make_automaton()
        return auto

    @cached_property
    def keys(self) -> frozenset[str] | None:
        """The anchor keys of the pattern (see _anchor_keys), looked up once: hashing a compiled
        pattern for the dict lookup hashes its whole code."""
        return _ANCHORS.get(self.pattern)

    def maybe(self, text: str) -> bool:
        auto = self._anchor_automaton
        return auto is None or next(auto.iter(_lower(text)), None) is not None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(text) if self.maybe(text) else iter(())

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern.search(text) if self.maybe(text) else None


def sentence_matches(
    pattern: re.Pattern[str] | Phrases, text: str, sentences: Sequence[Sentence]
) -> Iterator[re.Match[str]]:
    """Matches inside each sentence: a phrase gap may span a wrapped line but never two sentences,
    and a would-be match across a boundary cannot hide a real one inside a sentence."""
    phrases = pattern if isinstance(pattern, Phrases) else None
    regex = phrases.pattern if phrases is not None else pattern
    assert isinstance(regex, re.Pattern)
    anchors = phrases.keys if phrases is not None else _ANCHORS.get(regex)
    starts = _starts(anchors, text)
    if starts is None:
        if phrases is not None and not phrases.maybe(text):
            return
        for s in sentences:
            yield from regex.finditer(text, s.start, s.end)
        return
    # Every match starts where one of its pattern's anchor keys occurs (see _anchor_keys):
    # a sentence without such an occurrence cannot hold a match and is not scanned.
    if not starts:
        return
    indexed = sentences.starts if isinstance(sentences, Sentences) else None
    if indexed is None:
        for s in sentences:
            i = bisect_left(starts, s.start)
            if i < len(starts) and starts[i] < s.end:
                yield from regex.finditer(text, s.start, s.end)
        return
    # finditer over each sentence with a candidate, without scanning it: every match starts at a
    # candidate, so trying the pattern at each candidate past the last match finds the same ones
    k, floor = -1, 0
    for p in starts:
        at = bisect_right(indexed, p) - 1
        if at < 0 or p >= sentences[at].end:
            continue
        if at != k:
            k, floor = at, sentences[at].start
        if p >= floor and (m := regex.match(text, p, sentences[k].end)) is not None:
            yield m
            floor = m.end()


def _starts(anchors: frozenset[str] | None, text: str) -> list[int] | None:
    """Sorted offsets where a match of the phrase set with these anchor keys can start, or None
    when not known (no keys, or a text _anchor_positions does not index)."""
    found = _anchor_positions(text, _GENERATION[0]) if anchors is not None else None
    if anchors is None or found is None:
        return None
    if len(anchors) < len(found):
        return sorted({i for a in anchors if a in found for i in found[a]})
    return sorted({i for a in found.keys() & anchors for i in found[a]})


def phrase_starts(phrases: Phrases, text: str) -> list[int] | None:
    """Where in `text` a match of `phrases` can start (see sentence_matches), or None."""
    return _starts(phrases.keys, text)


_WORDISH = re.compile(r"[\w-]")


def search_from(
    phrases: Phrases, text: str, starts: list[int], sentence: Sentence
) -> re.Match[str] | None:
    """`phrases.search(sentence.text)` given phrase_starts(phrases, text) (only the group(0)
    is the same: the match is on `text`), or the other search when the character before the
    sentence is one the phrases' look-behind would see (it sees past `pos`, not past a slice)."""
    lo, hi = sentence.start, sentence.end
    if lo > 0 and _WORDISH.match(text, lo - 1):
        return phrases.search(sentence.text)
    regex = phrases.pattern
    for i in range(bisect_left(starts, lo), len(starts)):
        p = starts[i]
        if p >= hi:
            break
        if (m := regex.match(text, p, hi)) is not None:
            return m
    return None


@lru_cache(maxsize=1)
def _anchor_automaton() -> ahocorasick.Automaton:
    auto = ahocorasick.Automaton()
    for key in {k for keys in _ANCHORS.values() for k in keys}:
        auto.add_word(key, key)
    auto.make_automaton()
    return auto


# ASCII byte -> itself lower-cased when a word character or "-", else a space
_SPACED = bytes(
    ord(chr(b).lower()) if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "_-") else 32
    for b in range(256)
)


@lru_cache(maxsize=8)
def _anchor_positions(text: str, generation: int) -> dict[str, list[int]] | None:
    """Where each anchor key of every compiled phrase set occurs (as offsets into `text`): one
    pass of an Aho-Corasick automaton per article instead of a regex scan per phrase set and
    sentence. Characters other than word characters and "-" become spaces, lower-cased, with a
    space before and after, as the keys expect. None for a text with _FOLD_TRAPS."""
    if _FOLD_TRAPS.search(text):
        return None
    if text.isascii():  # the same as below, one table lookup per byte
        spaced = f" {text} ".encode("ascii").translate(_SPACED).decode("ascii")
    else:
        spaced = " " + _NOT_WORD.sub(" ", text).lower() + " "
    found: dict[str, list[int]] = {}
    for end, key in _anchor_automaton().iter(spaced):
        found.setdefault(key, []).append(end - len(key) + 1)
    return found


def find_phrases(phrases: Iterable[str], text: str) -> list[re.Match[str]]:
    pattern = compile_phrases(tuple(phrases))
    return list(pattern.finditer(text)) if pattern is not None else []
