"""Quantities ("approximately 70 miles" -> 112.7 km, "five out of eight missiles") and casualties."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ahocorasick
from pydantic import TypeAdapter

from schemas import Casualty, Quantity

DATA = Path(__file__).parent / "data"
# Plain dicts validated once per article: cheaper than a model per match, the same models.
_QUANTITIES = TypeAdapter(list[Quantity])
_CASUALTIES = TypeAdapter(list[Casualty])

_SMALL = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_TENS = {
    w: 10 * i
    for i, w in enumerate(
        ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
    )
    if w != "_"
}
_WORDS = {**_SMALL, **_TENS, "dozen": 12, "a dozen": 12, "hundreds": 200, "dozens": 24}
_SCALE = {
    "hundred": 1e2,
    "thousand": 1e3,
    "million": 1e6,
    "mln": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "bln": 1e9,
    "bn": 1e9,
    "trillion": 1e12,
    "k": 1e3,
}
_WORD_NUM = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three|four|"
    r"five|six|seven|eight|nine))?|a dozen|dozens|hundreds|zero|one|two|three|four|five|six|seven|"
    r"eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
)
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
NUM = rf"(?:{_DIGITS}|\b{_WORD_NUM}\b)"
_QUAL = (
    r"nearly|almost|approximately|about|around|roughly|some|more than|over|at least|up to|"
    r"fewer than|less than|an estimated|estimated|close to|as many as|just over|just under|"
    r"upwards of|in excess of|approx\."
)
_COUNTABLE_STOP = frozenset(
    [
        "of",
        "and",
        "or",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "the",
        "a",
        "an",
        "as",
        "per",
        "from",
        "with",
        "than",
        "that",
        "which",
        "who",
        "were",
        "was",
        "are",
        "is",
        "have",
        "has",
        "had",
        "be",
        "been",
        "will",
        "would",
        "could",
        "percent",
        "per",
    ]
)
_CASUALTY_NOUNS = (
    r"(?:people|persons|civilians|soldiers|troops|servicemen|fighters|militants|children|women|"
    r"men|police(?:men)?|officers|residents|passengers|workers|migrants|Palestinians|Israelis|"
    r"Ukrainians|Russians|others)"
)


_DURATIONS = frozenset(("s", "day", "month", "year"))


@dataclass(frozen=True)
class Unit:
    unit: str
    normalized: str
    factor: float


@lru_cache(maxsize=1)
def units() -> dict[str, Unit]:
    with (DATA / "units.csv").open(encoding="utf-8", newline="") as f:
        return {
            r["surface"]: Unit(r["unit"], r["normalized_unit"], float(r["factor"]))
            for r in csv.DictReader(f)
        }


@lru_cache(maxsize=1)
def _number_words() -> ahocorasick.Automaton:
    a = ahocorasick.Automaton()
    for w in [*_WORDS, *(f"{t}-{u}" for t in _TENS for u in list(_SMALL)[1:10])]:
        a.add_word(w, w)
    a.make_automaton()
    return a


# A run of digits not after a digit, "." or ",": the regex starts with the digit, so the scan
# skips to digits, and the look-behind then checks the character before it.
_DIGIT_RUN = re.compile(r"\d(?<![\d.,]\d)\d*")


def _digit_starts(text: str) -> list[int]:
    r"""The starts of `(?:US\$|[$€£])?(?<![\d.,])\d` matches, from runs of digits: a run's first
    digit unless after "." or ",", moved back over a currency sign (a scan for the runs is far
    cheaper than trying the optional sign at every character)."""
    out = []
    for m in _DIGIT_RUN.finditer(text):
        p = m.start()
        if p >= 3 and text.startswith("US$", p - 3):
            p -= 3
        elif p and text[p - 1] in "$€£":
            p -= 1
        out.append(p)
    return out


def _number_starts(text: str) -> list[int]:
    """Where a number can start: digits (regex) and number words (automaton on the lower-cased
    text); far cheaper than one case-insensitive alternation tried at every character."""
    starts = _digit_starts(text)
    lower = text.lower()
    n = len(text)
    for end, w in _number_words().iter(lower):
        st = end - len(w) + 1
        if (st == 0 or not lower[st - 1].isalnum()) and (
            end + 1 == n or not lower[end + 1].isalnum()
        ):
            starts.append(st)
    return sorted(set(starts))


@lru_cache(maxsize=1)
def _quantity_re() -> re.Pattern[str]:
    unit_alts = "|".join(
        re.escape(u) for u in sorted(units(), key=len, reverse=True) if u[0].isalpha() or u == "%"
    )
    return re.compile(
        r"(?P<cur>US\$|\$|€|£)?"
        rf"(?P<num>{NUM})"
        r"(?:\s*(?P<scale>hundred|thousand|million|billion|trillion|mln|bln|bn)\b)?"
        rf"(?:\s+out\s+of\s+(?P<outof>{NUM}))?"
        rf"(?:[\s-]*(?P<unit>(?:{unit_alts}))(?![\w]))?"
        r"(?:\s+(?P<w1>[a-z][a-z-]+)(?:\s+(?P<w2>[a-z][a-z-]+))?)?",
        re.I,
    )


_QUAL_BEFORE = re.compile(rf"\b(?P<qual>{_QUAL})\s+$", re.I)
# What re.IGNORECASE matches as an ASCII letter and str.lower() does not lower to one.
_CASE_TRAPS = ("\u0130", "\u0131", "\u017f")  # İ (lowers to two characters), ı, ſ
# The qualifiers by their last character, longest first (the leftmost match is the longest).
_QUALS_BY_END: dict[str, tuple[str, ...]] = {}
for _q in sorted(_QUAL.replace("\\", "").split("|"), key=len, reverse=True):
    _QUALS_BY_END[_q[-1]] = (*_QUALS_BY_END.get(_q[-1], ()), _q)


def _qual_before(text: str, lo: int, hi: int) -> tuple[int, int] | None:
    """The span of group "qual" of `_QUAL_BEFORE.search(text, lo, hi)` for a text without
    _CASE_TRAPS, from string operations: the qualifier ends where the trailing whitespace of
    text[lo:hi] starts, so it is the longest one the rest ends with, after a word boundary."""
    head = text[lo:hi].rstrip()
    j = lo + len(head)
    if j == hi:
        return None  # no whitespace before hi
    for q in _QUALS_BY_END.get(head[-1:].lower(), ()):
        p = j - len(q)
        if (
            p >= lo
            and head[p - lo :].lower() == q
            and (p == 0 or not ((c := text[p - 1]).isalnum() or c == "_"))  # \b
        ):
            return p, j
    return None


# (the look-ahead holds every alternative's first letter: it lets the scan skip other characters)
_CASUALTY_TRIGGER = re.compile(
    r"(?=[kdiwhmcp])\b(?:kill|dead|died|injur|wound|hurt|missing|captured|prisoner|displaced|hostage|death toll)",
    re.I,
)
# (the look-ahead holds the first letters of every alternative: the verbs, the qualifiers, the
# numbers and "death toll"; it lets the scan of a window skip other characters)
_CASUALTY = re.compile(
    r"(?=[acdefhijklmnorstuwz\d])(?:"
    rf"\b(?P<v1>killed|killing|kills|injuring|wounding|injured|wounded)\s+(?:(?P<q1>{_QUAL})\s+)?"
    rf"(?:at least\s+)?(?P<n1>{NUM})\b"
    rf"|(?:(?P<q2>{_QUAL})\s+)?(?P<n2>{NUM})\s+(?:(?:{_CASUALTY_NOUNS}|[a-z]+s|[a-z]+men)\s+)?(?:(?:were|have been|had "
    r"been|are|was|been)\s+(?:reportedly\s+|also\s+)?)?(?P<v2>killed|dead|died|injured|wounded|hurt|"
    r"missing|captured|taken prisoner|displaced|taken hostage)\b"
    rf"|\bdeath toll\s+(?:\w+\s+){{0,2}}?(?:to|of|at|reached|hit)\s+(?:(?P<q3>{_QUAL})\s+)?"
    rf"(?P<n3>{NUM})\b)",
    re.I,
)
_KIND = {
    "killed": "killed",
    "killing": "killed",
    "kills": "killed",
    "dead": "killed",
    "died": "killed",
    "injured": "injured",
    "injuring": "injured",
    "wounded": "injured",
    "wounding": "injured",
    "hurt": "injured",
    "missing": "missing",
    "captured": "captured",
    "taken prisoner": "captured",
    "taken hostage": "captured",
    "displaced": "displaced",
}


def parse_number(s: str) -> float | None:
    """'1,000' -> 1000.0, 'twenty-five' -> 25.0, 'a dozen' -> 12.0."""
    t = s.strip().lower()
    if t[:1].isdigit():
        return float(t.replace(",", ""))
    if t in _WORDS:
        return float(_WORDS[t])
    parts = re.split(r"[- ]", t)
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _SMALL:
        return float(_TENS[parts[0]] + _SMALL[parts[1]])
    return None


def _is_year(num: str, m: re.Match[str]) -> bool:
    return (
        len(num) == 4
        and num.isdigit()
        and 1800 <= int(num) <= 2100
        and not m.group("unit")
        and not m.group("cur")
    )


def quantities(text: str, taken: list[tuple[int, int]]) -> list[Quantity]:
    """Numbers with what they count; spans in `taken` (dates) are skipped."""
    out: list[dict[str, object]] = []
    table = units()
    pattern = _quantity_re()
    last = -1
    in_taken = {i for a, b in taken for i in range(a, b)}  # dates are short: a set beats a scan
    trapped = any(c in text for c in _CASE_TRAPS)
    for pos in _number_starts(text):
        if pos < last:
            continue
        m = pattern.match(text, pos)
        if m is None:
            continue
        last = max(m.end("num"), m.end("scale"), m.end("outof"), m.end("unit"))
        num = m.group("num")
        if m.start("num") in in_taken or _is_year(num, m):
            continue
        value = parse_number(num)
        if value is None:
            continue
        if trapped:
            q = _QUAL_BEFORE.search(text, max(0, m.start() - 24), m.start())
            qual_span = q.span("qual") if q else None
        else:
            qual_span = _qual_before(text, max(0, m.start() - 24), m.start())
        qual = text[qual_span[0] : qual_span[1]] if qual_span else None
        start = qual_span[0] if qual_span else m.start()
        is_word = not num[0].isdigit()
        scale = m.group("scale")
        if scale:
            value *= _SCALE[scale.lower()]
        unit_s = m.group("unit")
        cur = m.group("cur")
        unit = table.get(unit_s.lower() if unit_s and unit_s.lower() in table else unit_s or "")
        if cur:
            unit = table[cur]
        counted = _counted(m, unit_s)
        outof = m.group("outof")
        if is_word and unit is None and counted is None and not outof:
            continue  # "one of the": only number words that count something
        if is_word and unit is None and num.lower() == "one":
            continue  # "no one knew", "one day" is too rarely a count to be worth the noise
        end = m.end("w2") if counted and m.group("w2") and counted.endswith(m.group("w2")) else None
        end = end or (
            m.end("w1") if counted and m.group("w1") and counted == m.group("w1") else None
        )
        end = end or max(m.end("num"), m.end("scale"), m.end("outof"), m.end("unit"))
        out.append(
            {
                "text": text[start:end],
                "start": start,
                "end": end,
                "value": value,
                "unit": unit.unit if unit else None,
                "counted": counted,
                "normalized_value": round(value * unit.factor, 3) if unit else None,
                "normalized_unit": unit.normalized if unit else None,
                "approximate": bool(qual),
                "qualifier": qual.lower() if qual else None,
                "out_of": parse_number(outof) if outof else None,
            }
        )
    return _QUANTITIES.validate_python(out)


def _counted(m: re.Match[str], unit_s: str | None) -> str | None:
    if unit_s and units()[unit_s.lower()].normalized in _DURATIONS:
        return unit_s.lower()
    if unit_s:
        return None
    w1, w2 = m.group("w1"), m.group("w2")
    if not w1 or w1.lower() in _COUNTABLE_STOP:
        return None
    if w2 and w2.lower() not in _COUNTABLE_STOP and w2.endswith("s") and not w1.endswith("s"):
        return f"{w1} {w2}"
    return w1


_TRIGGER_WORDS = (
    *("kill", "dead", "died", "injur", "wound", "hurt", "missing", "captured", "prisoner"),
    *("displaced", "hostage", "death toll"),
)


def _triggers(text: str, low: str | None) -> list[tuple[int, int]]:
    """The spans of `_CASUALTY_TRIGGER.finditer(text)`, found with str.find in `low`, the
    lower-cased text (None if it holds _CASE_TRAPS): a dozen C scans instead of the regex tried
    at every k, d, i, w, h, m, c or p. The words start at a word boundary and none can start
    inside another, so every occurrence after a non-word character is a match."""
    if low is None:
        return [t.span() for t in _CASUALTY_TRIGGER.finditer(text)]
    out: list[tuple[int, int]] = []
    for w in _TRIGGER_WORDS:
        i = low.find(w)
        while i >= 0:
            if i == 0 or not ((c := text[i - 1]).isalnum() or c == "_"):  # \b before a letter
                out.append((i, i + len(w)))
            i = low.find(w, i + 1)
    out.sort()
    return out


@lru_cache(maxsize=1)
def _casualty_words() -> ahocorasick.Automaton:
    """Lower-case words a _CASUALTY match can start with (or a digit): its verbs, qualifiers,
    number words and "death toll"."""
    words = {"kill", "injur", "wound", "death toll", "a dozen", "dozens", "hundreds"}
    words.update(_QUAL.replace("\\", "").split("|"), _SMALL, _TENS)
    a = ahocorasick.Automaton()
    for w in words:
        a.add_word(w, len(w))
    a.make_automaton()
    return a


_DIGIT_CHAR = re.compile(r"\d")


def _window_matches(text: str, low: str | None, lo: int, hi: int) -> Iterator[re.Match[str]]:
    """`_CASUALTY.finditer(text, lo, hi)`, with the pattern tried only where a match can start:
    at a digit or one of `_casualty_words()` in `low` (see _triggers); the regex alone tried its
    alternatives at nearly every character of the window."""
    if low is None:
        yield from _CASUALTY.finditer(text, lo, hi)
        return
    starts = {m.start() for m in _DIGIT_CHAR.finditer(text, lo, hi)}
    starts.update(end - n + 1 for end, n in _casualty_words().iter(low, lo, hi))
    last = lo
    for p in sorted(starts):
        if p >= last and (m := _CASUALTY.match(text, p, hi)):
            last = m.end()
            yield m


def _casualty_matches(text: str) -> list[re.Match[str]]:
    """The full pattern only runs in windows around trigger words: most sentences have none."""
    # as long as text when it holds no _CASE_TRAPS (İ is the one character that lowers to two)
    low = None if any(c in text for c in _CASE_TRAPS) else text.lower()
    found: dict[tuple[int, int], re.Match[str]] = {}
    done = -1
    for t_start, t_end in _triggers(text, low):
        if t_start < done:
            continue
        lo = text.rfind(" ", 0, max(0, t_start - 90)) + 1
        hi = text.find(" ", t_end + 60)
        hi = len(text) if hi < 0 else hi
        for m in _window_matches(text, low, lo, hi):
            found.setdefault((m.start(), m.end()), m)
        done = hi - 60
    out: list[re.Match[str]] = []
    for k in sorted(found):
        if not out or k[0] >= out[-1].end():
            out.append(found[k])
    return out


def casualties(text: str) -> list[Casualty]:
    out: list[dict[str, object]] = []
    for m in _casualty_matches(text):
        num = m.group("n1") or m.group("n2") or m.group("n3")
        verb = (m.group("v1") or m.group("v2") or "killed").lower()
        qual = m.group("q1") or m.group("q2") or m.group("q3")
        value = parse_number(num) if num else None
        if value is None:
            continue
        kind = _KIND.get(verb, "killed")
        out.append(
            {
                "kind": kind,
                "count": int(value),
                "text": m.group(0),
                "start": m.start(),
                "end": m.end(),
                "approximate": bool(qual) or "at least" in m.group(0).lower(),
            }
        )
    return _CASUALTIES.validate_python(out)
