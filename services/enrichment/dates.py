"""Dates, weekdays and relative days, resolved against the publication time."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import ahocorasick
from pydantic import TypeAdapter

from schemas import TimeMention

_MENTIONS = TypeAdapter(list[TimeMention])  # one validation per article, not a model per mention

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        1,
    )
    for m in names
}
_WEEKDAYS = {
    d: i
    for i, d in enumerate(
        ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    )
}
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)"
)
# Anchored at a candidate start found cheaply (a digit, or a month/weekday/day word from an
# automaton): one big alternation tried at every character costs more than the rest of enrich().
_TIME = re.compile(
    r"(?P<iso>(?P<iy>(?:19|20)\d\d)-(?P<im>0[1-9]|1[0-2])-(?P<id>0[1-9]|[12]\d|3[01]))\b"
    rf"|(?P<md>(?P<m1>{_MONTH})\s+(?P<d1>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?\b(?:,?\s+(?P<y1>(?:19|20)\d\d)\b)?)"
    rf"|(?P<dm>(?P<d2>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{_MONTH})(?:,?\s+(?P<y2>(?:19|20)\d\d)\b)?)"
    r"|(?P<wday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)(?:'s)?\b"
    r"|(?P<rd>yesterday|today|tomorrow|Yesterday|Today|Tomorrow)\b"
    rf"|(?P<my>(?P<m3>{_MONTH}) (?P<y3>(?:19|20)\d\d))\b"
    r"|(?P<year>(?:19|20)\d\d)\b"
)
_REL_BEFORE = re.compile(r"\b(?P<rel>[Ll]ast|[Nn]ext|[Tt]his|[Oo]n|[Ss]ince|[Uu]ntil|[Bb]y)\s+$")
_YEAR_BEFORE = re.compile(r"\b(?:in|by|since|until|of|before|after|early|late|mid-?)\s*$", re.I)
# The starts of `(?<![\w.,])\d`, written to start with the digit: the scan skips to digits, the
# look-behind then checks the character before it (a look-behind first is tried at every
# character), and `\d*` takes the rest of the run, whose digits never start a match.
_DIGIT = re.compile(r"\d(?<![\w.,]\d)\d*")


# Month, weekday and relative-day words as a match can start with them (case-sensitive).
WORD_FORMS = tuple(
    form
    for w in (*_MONTHS, *_WEEKDAYS, "yesterday", "today", "tomorrow")
    for form in (w, w.capitalize())
)


@lru_cache(maxsize=1)
def _words() -> ahocorasick.Automaton:
    a = ahocorasick.Automaton()
    for form in WORD_FORMS:
        a.add_word(form, len(form))
    a.make_automaton()
    return a


def _starts(text: str, words: list[int] | None = None) -> list[int]:
    """`words`: where the WORD_FORMS occur in `text`, if known (the gazetteer's scan finds them)."""
    starts = [m.start() for m in _DIGIT.finditer(text)]
    if words is None:
        words = [end - n + 1 for end, n in _words().iter(text)]
    for st in words:
        if st == 0 or not text[st - 1].isalnum():
            starts.append(st)
    return sorted(set(starts))


def _month(name: str) -> int:
    return _MONTHS[name.lower().rstrip(".")]


def _date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _near_year(month: int, day: int, ref: dt.date) -> int:
    """A date without a year is the one closest to publication (news looks back more than ahead)."""
    best = ref.year
    for y in (ref.year - 1, ref.year, ref.year + 1):
        c = _date(y, month, day)
        b = _date(best, month, day)
        if c and (b is None or abs((c - ref).days) < abs((b - ref).days)):
            best = y
    return best


def time_mentions(
    text: str, published: dt.datetime | None, words: list[int] | None = None
) -> list[TimeMention]:
    """`words`: where the WORD_FORMS occur in `text`, if known (`gazetteer.scan` finds them)."""
    ref = published.date() if published else None
    out: list[dict[str, object]] = []
    last = -1
    for pos in _starts(text, words):
        if pos < last:
            continue
        m = _TIME.match(text, pos)
        if m is None:
            continue
        kind: str
        when: dt.date | None = None
        span = (m.start(), m.end())
        if m.group("iso"):
            kind = "date"
            when = _date(int(m.group("iy")), int(m.group("im")), int(m.group("id")))
        elif m.group("md") or m.group("dm"):
            kind = "date"
            mon = _month(m.group("m1") or m.group("m2"))
            day = int(m.group("d1") or m.group("d2"))
            y = m.group("y1") or m.group("y2")
            if y:
                when = _date(int(y), mon, day)
            elif ref:
                when = _date(_near_year(mon, day, ref), mon, day)
        elif m.group("wday"):
            kind = "weekday"
            before = _REL_BEFORE.search(text, max(0, pos - 8), pos)
            rel = before.group("rel").lower() if before else ""
            span = (before.start() if before else pos, m.end())
            if ref:
                wd = _WEEKDAYS[m.group("wday").lower()]
                back = (ref.weekday() - wd) % 7
                if rel in ("next", "until"):
                    when = ref + dt.timedelta(days=(wd - ref.weekday()) % 7 or 7)
                elif rel == "last" and back == 0:
                    when = ref - dt.timedelta(days=7)
                else:
                    when = ref - dt.timedelta(days=back)
        elif m.group("rd"):
            kind = "relative"
            if ref:
                shift = {"yesterday": -1, "today": 0, "tomorrow": 1}[m.group("rd").lower()]
                when = ref + dt.timedelta(days=shift)
        elif m.group("my"):
            kind = "month"
            when = _date(int(m.group("y3")), _month(m.group("m3")), 1)
        else:
            if not _YEAR_BEFORE.search(text, max(0, pos - 8), pos):
                continue  # a bare four-digit number is more often a count than a year
            kind = "year"
        last = m.end()
        out.append(
            {
                "text": text[span[0] : span[1]],
                "start": span[0],
                "end": span[1],
                "kind": kind,
                "date": when,
            }
        )
    return _MENTIONS.validate_python(out)
