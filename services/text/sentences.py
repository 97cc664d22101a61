"""Sentences with offsets: the one splitter every stage uses, and an article's sentences.

Enrichment splits the cleaned text once and publishes the spans; tagging and alerts read them
(`sentences_of`) and split again only for an article that does not carry them.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
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


# A candidate end: terminal punctuation (and closing quotes/brackets), whitespace, then a capital,
# digit or opening quote; the token before the dot decides whether it is an abbreviation.
_BOUNDARY = re.compile(r"([.!?…]+)([\"'”’)\]]*)\s+(?=[\"“‘(\[]?[A-Z0-9À-ÖØ-ÞА-ЯЁ])")


# Where a raw (uncleaned) text's paragraph ends: a blank line or an indented line. A single line
# break inside a paragraph is only a space there: wire copy is often hard-wrapped.
_PARAGRAPH = re.compile(r"\n(?=[ \t]*\n|[ \t]+\S)")


def split_spans(text: str, wrapped: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each sentence: abbreviations never end one; a line break always does in
    cleaned text (`clean` leaves one per paragraph), and only at a paragraph end when `wrapped`."""
    abbrev = abbreviations()
    spans: list[tuple[int, int]] = []
    for line_start, line in _blocks(text, wrapped):
        start = line_start
        for m in _BOUNDARY.finditer(line):
            if m.group(1) == ".":
                cut = max(line.rfind(" ", 0, m.start()), line.rfind("\n", 0, m.start()))
                tok = line[cut + 1 : m.start()] + "."
                if tok in abbrev or (len(tok) == 2 and tok[0].isupper()):
                    continue
            _add(text, spans, start, line_start + m.end(2))
            start = line_start + m.end()
        _add(text, spans, start, line_start + len(line.rstrip()))
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
    while start < end and text[start].isspace():
        start += 1
    if end > start:
        spans.append((start, end))
