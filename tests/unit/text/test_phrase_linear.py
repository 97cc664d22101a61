"""The phrase language in linear time (issue 27): a hyphen run in a gap no longer backtracks, the
matches are the ones the old backtracking gap found, and no sentence fed to the matchers is long."""

from __future__ import annotations

import re
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from services.text.lexicon import compile_set, load
from services.text.phrases import (
    MAX_SENTENCE,
    bounded_spans,
    compile_phrases,
    find_phrases,
)


def _cpu(fn: object, *args: object) -> float:
    assert callable(fn)
    t0 = time.process_time()
    fn(*args)
    return time.process_time() - t0


def test_a_hyphen_run_in_a_gap_costs_microseconds() -> None:
    # the old `(?:SEP word(?:-word)*){0,7}?` split "-a-a-..." in C(n, 7) ways: 3 s at n=44
    text = "Troops launched " + "-a" * 44 + " near the border"
    assert _cpu(find_phrases, ["launch* ... attack"], text) < 0.05


def test_a_hyphen_run_in_a_lexicon_gap_costs_microseconds() -> None:
    phrases = compile_set(load("fr").compiler, ["lanc* ... missile*"])
    assert phrases is not None
    text = "des soldats ont lance " + "-a" * 400 + " des chars"
    assert _cpu(phrases.regex.search, text) < 0.05


def test_a_run_of_apostrophes_after_a_star_word_is_linear() -> None:
    find_phrases(["attack* ... missile"], "compiled")
    text = "’".join(["attack"] * 600) + " near the border"  # a start at every word, none matching
    assert _cpu(find_phrases, ["attack* ... missile"], text) < 0.1


# ---- the same matches as the backtracking form ---------------------------------------------
_OLD_SEP = r"[^\w.!?;:]+"


def _old_regex(phrase: str) -> str:
    """The phrase language as compiled before issue 27 (plain words, `*`, `...n`)."""
    parts: list[str] = []
    gap: str | None = None
    for w in phrase.split():
        if w.startswith("..."):
            n = int(w[3:]) if len(w) > 3 else 7
            gap = r"(?:" + _OLD_SEP + r"\w+(?:[-'’]\w+)*){0," + str(n) + "}?"
            continue
        if parts:
            parts.append(gap + _OLD_SEP if gap is not None else r"[ \t-]+")
        parts.append(re.escape(w[:-1]) + r"[\w'’-]*" if w.endswith("*") else re.escape(w))
        gap = None
    return "".join(parts)


PHRASES = ("ab ... ba", "ab* ...2 ba", "b ...1 ab* a", "ab ba* ... a", "ba ...3 ab ...1 b*")


def _old(phrases: tuple[str, ...]) -> re.Pattern[str]:
    alts = sorted({_old_regex(p) for p in phrases}, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(alts) + r")(?![\w])", re.I)


_TEXT = st.lists(st.sampled_from(["ab", "ba", "a", "b", "-", "'", "’", " ", " ", ".", ", "]))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PHRASES), min_size=1, max_size=3, unique=True), _TEXT)
def test_the_linear_gap_finds_the_old_matches(phrases: list[str], parts: list[str]) -> None:
    text = "".join(parts)[:60]  # short: the old form is exponential
    new = compile_phrases(tuple(phrases))
    assert new is not None
    assert [m.span() for m in new.finditer(text)] == [
        m.span() for m in _old(tuple(phrases)).finditer(text)
    ]


def test_long_sentences_are_cut_for_the_matchers() -> None:
    text = "A short one. " + " ".join(["word"] * 1000) + "x" * 3000
    spans = bounded_spans(text, [(0, 12), (13, len(text))])
    assert spans[0] == (0, 12)
    assert all(b - a <= MAX_SENTENCE for a, b in spans)
    assert spans[1][1] - spans[1][0] > MAX_SENTENCE // 2  # cut at a space near the limit
    covered = "".join(text[a:b] for a, b in spans[1:])
    assert covered.replace(" ", "") == text[13:].replace(" ", "")  # nothing lost but spaces
