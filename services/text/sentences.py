"""Sentences with offsets: the one splitter every stage uses (and the native detection, with the
rules of any script), and an article's sentences.

Enrichment splits the cleaned text once and publishes the spans; tagging and alerts read them
(`sentences_of`) and split again only for an article that does not carry them.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

DATA = Path(__file__).parent / "data"
_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*")


class Sentence(NamedTuple):
    """A sentence and its offsets in the article text (a named tuple: an article has dozens, and
    a tuple is built several times faster than a frozen dataclass)."""

    start: int
    end: int
    text: str


class Sentences(tuple[Sentence, ...]):
    """An article's sentences with their starts indexed when they are in order and disjoint (as
    `sentences_of` gives them): `sentence_matches` then goes from a candidate to its sentence by
    bisection instead of testing every sentence for every phrase set."""

    starts: list[int] | None

    def __new__(cls, items: Iterable[Sentence]) -> Sentences:
        self = super().__new__(cls, items)
        ordered = all(a.end <= b.start for a, b in pairwise(self))
        self.starts = [x.start for x in self] if ordered else None
        return self


def split_sentences(text: str) -> list[Sentence]:
    """`split_spans` as `Sentence`s: for an article that arrives without enrichment's spans."""
    return [Sentence(a, b, text[a:b]) for a, b in split_spans(text, wrapped=True)]


def article_text(article: Any) -> str:
    """The string every offset refers to: enrichment's `text` when it defines one, else title + body."""
    given = getattr(article, "text", None)
    return given if isinstance(given, str) else f"{article.title}\n{article.body}"


def sentences_of(article: Any, text: str) -> list[Sentence]:
    """Enrichment's sentences when it provides them (objects or dicts with start/end), else the
    same splitter's: `text` starts with the title and a line break, so the title is a sentence."""
    given = getattr(article, "sentences", None)
    if given:
        if not any(isinstance(s, dict) for s in given):
            return [Sentence(s.start, s.end, text[s.start : s.end]) for s in given]
        out = []
        for s in given:
            start = s["start"] if isinstance(s, dict) else s.start
            end = s["end"] if isinstance(s, dict) else s.end
            out.append(Sentence(start, end, text[start:end]))
        return out
    cut = len(article.title) + 1 if text.startswith(f"{article.title}\n") else 0
    body = [Sentence(x.start + cut, x.end + cut, x.text) for x in split_sentences(text[cut:])]
    return split_sentences(text[:cut]) + body


def sentence_at(sentences: Sequence[Sentence], offset: int) -> Sentence | None:
    """The first sentence holding `offset`: found by bisection when the starts are indexed."""
    starts = sentences.starts if isinstance(sentences, Sentences) else None
    if starts is not None:
        k = bisect_right(starts, offset) - 1
        return sentences[k] if k >= 0 and offset < sentences[k].end else None
    for s in sentences:
        if s.start <= offset < s.end:
            return s
    return None


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


@lru_cache(maxsize=1)
def abbreviations() -> frozenset[str]:
    lines = (DATA / "abbreviations.txt").read_text(encoding="utf-8").split()
    return frozenset(w for w in lines if not w.startswith("#"))


# One splitter, two rule sets. A rule set is a candidate end (its `end` group: where the sentence
# stops; the match's end: where the next may start) and a test of a candidate that does not end
# one (an abbreviation, an initial), given the block, the match and the sentence's start in it.
class _Rules(NamedTuple):
    boundary: re.Pattern[str]
    end: int
    continues: Callable[[str, re.Match[str], int], bool]


# English (and other Latin or Cyrillic script): terminal punctuation (and closing quotes/brackets),
# whitespace, then a capital, digit or opening quote; the token before the dot decides whether it
# is an abbreviation.
_BOUNDARY = re.compile(r"([.!?…]+)([\"'”’)\]]*)\s+(?=[\"“‘(\[]?[A-Z0-9À-ÖØ-ÞА-ЯЁ])")


def _abbreviation(block: str, m: re.Match[str], start: int) -> bool:
    if m.group(1) != ".":
        return False
    cut = max(block.rfind(" ", 0, m.start()), block.rfind("\n", 0, m.start()))
    tok = block[cut + 1 : m.start()] + "."
    return tok in abbreviations() or (len(tok) == 2 and tok[0].isupper())


# Any script (services/text/i18n.py): . ! ? ؟ … then space, a quote or the end; 。！？ anywhere; a
# blank line. No capital is required (Arabic, Hebrew, Chinese have none), and a single letter
# before a full stop (an initial, "г." in Russian dates) does not end one.
_ANY_BOUNDARY = re.compile(r"[.!?؟…]+(?=[\s\"»”)]|$)|[。！？]+|\n\s*\n")
_INITIAL = re.compile(r"(?:^|\s)\w\.$")  # "т." "z." "S." : an initial or abbreviation


def _initial(block: str, m: re.Match[str], start: int) -> bool:
    return m.group(0).startswith(".") and bool(
        _INITIAL.search(block, max(start, m.start() - 3), m.end())
    )


_ENGLISH = _Rules(_BOUNDARY, 2, _abbreviation)
_ANY_SCRIPT = _Rules(_ANY_BOUNDARY, 0, _initial)


# Where a raw (uncleaned) text's paragraph ends: a blank line or an indented line. A single line
# break inside a paragraph is only a space there: wire copy is often hard-wrapped.
_PARAGRAPH = re.compile(r"\n(?=[ \t]*\n|[ \t]+\S)")


def split_spans(text: str, wrapped: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each sentence: abbreviations never end one; a line break always does in
    cleaned text (`clean` leaves one per paragraph), and only at a paragraph end when `wrapped`."""
    return _split(text, _blocks(text, wrapped), _ENGLISH)


def split_spans_any_script(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a text in any script (the native detection's): the same
    splitter with the rules every language shares; a line break alone does not end a sentence."""
    return _split(text, [(0, text)], _ANY_SCRIPT)


def _split(text: str, blocks: list[tuple[int, str]], rules: _Rules) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for block_start, block in blocks:
        start = block_start
        for m in rules.boundary.finditer(block):
            if rules.continues(block, m, start - block_start):
                continue
            _add(text, spans, start, block_start + m.end(rules.end))
            start = block_start + m.end()
        _add(text, spans, start, block_start + len(block))
    return spans


def _blocks(text: str, wrapped: bool) -> list[tuple[int, str]]:
    """The lines (or, when `wrapped`, the paragraphs) of `text` with their start offsets."""
    out: list[tuple[int, str]] = []
    pos = 0
    for block in _PARAGRAPH.split(text) if wrapped else text.split("\n"):
        out.append((pos, block))
        pos += len(block) + 1
    return out


def _add(text: str, spans: list[tuple[int, int]], start: int, end: int) -> None:
    """The span without the whitespace around it, if anything is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
