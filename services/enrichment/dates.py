"""Dates, weekdays and relative days, resolved against the publication time."""

from __future__ import annotations

import datetime as dt
import re

from schemas import TimeMention

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
_TIME = re.compile(
    r"\b(?P<iso>(?P<iy>(?:19|20)\d\d)-(?P<im>0[1-9]|1[0-2])-(?P<id>0[1-9]|[12]\d|3[01]))\b"
    rf"|\b(?P<md>(?P<m1>{_MONTH})\s+(?P<d1>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?\b(?:,?\s+(?P<y1>(?:19|20)\d\d)\b)?)"
    rf"|\b(?P<dm>(?P<d2>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{_MONTH})(?:,?\s+(?P<y2>(?:19|20)\d\d)\b)?)"
    r"|\b(?P<wd>(?:(?P<rel>last|next|this|on|since|until|by)\s+)?"
    r"(?P<wday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)(?:'s)?)\b"
    r"|\b(?P<rd>yesterday|today|tomorrow|Yesterday|Today|Tomorrow)\b"
    rf"|\b(?P<my>(?P<m3>{_MONTH}) (?P<y3>(?:19|20)\d\d))\b"
    r"|\b(?:in|by|since|until|of|before|after|early|late|mid-?)\s+(?P<year>(?:19|20)\d\d)\b"
)


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


def time_mentions(text: str, published: dt.datetime | None) -> list[TimeMention]:
    ref = published.date() if published else None
    out: list[TimeMention] = []
    for m in _TIME.finditer(text):
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
        elif m.group("wd"):
            kind = "weekday"
            span = (m.start("wd"), m.end("wd"))
            if ref:
                wd = _WEEKDAYS[m.group("wday").lower()]
                back = (ref.weekday() - wd) % 7
                rel = (m.group("rel") or "").lower()
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
            kind = "year"
            span = (m.start("year"), m.end("year"))
            when = None
        out.append(
            TimeMention(
                text=text[span[0] : span[1]],
                start=span[0],
                end=span[1],
                kind=kind,
                date=when,
            )
        )
    return out
