"""The event frame: is a candidate event said to happen (asserted), now (current), for real
(literal) and by an armed actor or a weapon (hostile)? One frame per candidate, each axis with a
label and its evidence (cue, position, reason); the traps (services/text/traps.py) are its
evidence where they fire, and the cues of data/frame.yaml add what a sentence trap cannot see:
trials and verdicts, years next to the trigger, plots, fact checks, storms and accidents, weapons
tests, and the article's genre decided once from its headline.

An event whose frame fails is kept by tagging as suppressed with this frame, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import cast, get_args

from pydantic import BaseModel, ConfigDict, Field

from schemas.tagged import EventFrame, FrameAxis, FrameCheck, Genre, TrapReason
from services.text.datafile import read_located
from services.text.genre_model import GenreModel
from services.text.phrases import Phrases
from services.text.sentences import Sentence, Sentences, tokens
from services.text.taxonomy import DATA, _check_phrases

TRAP_AXIS: dict[TrapReason, FrameAxis] = {
    "negated": "asserted",
    "hypothetical": "asserted",
    "historical": "current",
    "metaphor": "literal",
    "peaceful": "hostile",
}
_PASS_LABEL: dict[FrameAxis, str] = {
    "asserted": "asserted",
    "current": "current",
    "literal": "literal",
    "hostile": "hostile",
}
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)s?\b")
_CLAUSE = re.compile(r"\b(?:but|however|while|although|whereas|then)\b|[;:—]", re.I)


# ---- the data file ------------------------------------------------------------------------
class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Cues(_Spec):
    window: int = Field(8, ge=1, le=30)
    cues: list[str] = Field(min_length=1)

    def model_post_init(self, _: object) -> None:
        _check_phrases(self.cues)


def _phrases(v: list[str]) -> list[str]:
    if not v:
        raise ValueError("must not be empty")
    return _check_phrases(v)


class AssertedSpec(_Spec):
    planned: _Cues
    stopped: list[str]
    fact_check: list[str]

    def model_post_init(self, _: object) -> None:
        _phrases(self.stopped), _phrases(self.fact_check)


class CurrentSpec(_Spec):
    background: _Cues
    justice: list[str]
    history: list[str]
    year_window: int = Field(4, ge=0, le=20)

    def model_post_init(self, _: object) -> None:
        _phrases(self.justice), _phrases(self.history)


class LiteralSpec(_Spec):
    computing: list[str]
    computing_exempt: list[str]
    fiction: list[str]

    def model_post_init(self, _: object) -> None:
        _phrases(self.fiction), _phrases(self.computing)


class HostileSpec(_Spec):
    disaster: list[str]
    accident: list[str]
    test: list[str]
    test_event: str
    retype: list[str]
    test_unless: list[str]
    armed: list[str]
    actors: list[str]

    def model_post_init(self, _: object) -> None:
        for v in (
            self.disaster,
            self.accident,
            self.test,
            self.test_unless,
            self.armed,
            self.actors,
        ):
            _phrases(v)


class GenreSpec(_Spec):
    lead: bool = False
    cues: list[str] = Field(min_length=1)

    def model_post_init(self, _: object) -> None:
        _check_phrases(self.cues)


class LanguageDates(_Spec):
    months: list[str] = Field(description="The twelve month names, January first (or none).")
    short: list[str] = Field(default_factory=list, description="Short forms, January first.")
    ago: str = Field(description="How 'N units ago' is written: {n} and {unit} placeholders.")
    units: dict[str, int] = Field(min_length=1, description="Unit word -> days.")

    def model_post_init(self, _: object) -> None:
        for names in (self.months, self.short):
            if names and len(names) != 12:
                raise ValueError(f"expected 12 month names, got {len(names)}")
        if "{n}" not in self.ago or "{unit}" not in self.ago:
            raise ValueError("ago must hold {n} and {unit}")


class DatesSpec(_Spec):
    recent_days: int = Field(7, ge=0)
    near: int = Field(90, ge=0)
    languages: dict[str, LanguageDates] = Field(min_length=1)


class NativeSpec(_Spec):
    """One native-lexicon language's frame cues (the traps of its lexicon do the rest)."""

    justice: list[str] = Field(min_length=1)
    fiction: list[str] = Field(min_length=1)
    disaster: list[str] = Field(min_length=1)
    accident: list[str] = Field(min_length=1)
    armed: list[str] = Field(min_length=1)


class FrameFile(_Spec):
    """services/text/data/frame.yaml"""

    native: dict[str, NativeSpec] = Field(default_factory=dict)
    dates: DatesSpec
    asserted: AssertedSpec
    current: CurrentSpec
    literal: LiteralSpec
    hostile: HostileSpec
    genre: dict[Genre, GenreSpec] = Field(min_length=1)
    markets: list[str] = Field(min_length=1)


def _alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_ZH_DATE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(?:(\d{1,2})日)?")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


@dataclass(frozen=True)
class DatePatterns:
    """One language's calendar dates and 'N units ago', compiled."""

    month_of: dict[str, int]
    day_month: re.Pattern[str] | None  # 12 March [2004], 12 de marzo de 2004
    month_day: re.Pattern[str] | None  # March 12[, 2004]
    month_year: re.Pattern[str] | None  # March 2004, June, 1985
    ago: re.Pattern[str]
    units: dict[str, int]

    @classmethod
    def of(cls, d: LanguageDates) -> DatePatterns:
        month_of = {m.lower(): i + 1 for names in (d.months, d.short) for i, m in enumerate(names)}
        units = {u.lower(): n for u, n in d.units.items()}
        ago = (
            re.escape(d.ago)
            .replace(r"\{n\}", r"(\d+)")
            .replace(r"\{unit\}", f"({_alt(list(units))})")
        )
        if not month_of:
            return cls({}, None, None, None, re.compile(ago, re.I), units)
        m = f"({_alt(list(month_of))})"
        return cls(
            month_of,
            re.compile(
                rf"(?<!\d)(\d{{1,2}})\.?\s+(?:de\s+)?{m}(?!\w)(?:,?\s+(?:de\s+)?(\d{{4}}))?", re.I
            ),
            re.compile(
                rf"(?<!\w){m}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?!\d)(?:,?\s+(\d{{4}}))?", re.I
            ),
            re.compile(rf"(?<!\w){m}\.?,?\s+(\d{{4}})(?!\d)", re.I),
            re.compile(ago, re.I),
            units,
        )

    def dates(self, part: str, published: date) -> list[tuple[re.Match[str], date]]:
        """Every calendar date written in `part`, with a year taken from the publication date
        when the text gives none (the year before, if that date would be after it)."""
        out: list[tuple[re.Match[str], date]] = []
        found: list[tuple[re.Match[str], int | None, int, int]] = []
        for m in self.day_month.finditer(part) if self.day_month else ():
            found.append((m, _int(m.group(3)), self.month_of[m.group(2).lower()], int(m.group(1))))
        for m in self.month_day.finditer(part) if self.month_day else ():
            found.append((m, _int(m.group(3)), self.month_of[m.group(1).lower()], int(m.group(2))))
        for m in self.month_year.finditer(part) if self.month_year else ():
            found.append((m, int(m.group(2)), self.month_of[m.group(1).lower()], 28))
        for m in _ZH_DATE.finditer(part):
            found.append((m, _int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)))
        for m in _ISO_DATE.finditer(part):
            found.append((m, int(m.group(1)), int(m.group(2)), int(m.group(3))))
        for m, year, month, day in found:
            try:
                when = date(year or published.year, month, min(day, 28) if day > 28 else day)
            except ValueError:
                continue
            if year is None and when > published + timedelta(days=1):
                when = when.replace(year=when.year - 1)
            out.append((m, when))
        return out


def _int(s: str | None) -> int | None:
    return int(s) if s else None


class CueSet:
    """Cue words found in a sentence: phrases on word boundaries, or plain substrings for a
    script written without spaces (Chinese)."""

    def __init__(self, cues: list[str], substrings: bool) -> None:
        self.words = tuple(cues)
        self.phrases = None if substrings else Phrases.of(cues)

    def find(self, text: str) -> tuple[str, int] | None:
        if self.phrases is not None:
            m = self.phrases.search(text)
            return (m.group(0), m.start()) if m is not None else None
        hits = [(i, w) for w in self.words if (i := text.find(w)) >= 0]
        return (min(hits)[1], min(hits)[0]) if hits else None


_NO_SPACES = frozenset({"zh", "ja"})


@dataclass(frozen=True)
class NativeCues:
    justice: CueSet
    fiction: CueSet
    disaster: CueSet
    accident: CueSet
    armed: CueSet

    @classmethod
    def of(cls, lang: str, n: NativeSpec) -> NativeCues:
        sub = lang in _NO_SPACES
        return cls(
            *(
                CueSet(getattr(n, k), sub)
                for k in ("justice", "fiction", "disaster", "accident", "armed")
            )
        )


def native_frame(cues: FrameCues, language: str, sent: Sentence) -> dict[FrameAxis, FrameCheck]:
    """The axes a native-language sentence fails on its own cues: a trial or verdict (current),
    a film, novel or game (literal), nature or an accident with no armed actor (hostile)."""
    n = cues.native.get(language)
    if n is None:
        return {}
    out: dict[FrameAxis, FrameCheck] = {}
    stext = sent.text
    if (j := n.justice.find(stext)) is not None:
        out["current"] = _check("justice", j[0], sent.start + j[1], "a trial, verdict or charge")
    if (f := n.fiction.find(stext)) is not None:
        out["literal"] = _check("fiction", f[0], sent.start + f[1], "a story, not news")
    if n.armed.find(stext) is None:
        if (d := n.disaster.find(stext)) is not None:
            out["hostile"] = _check("disaster", d[0], sent.start + d[1], "nature did it")
        elif (a := n.accident.find(stext)) is not None:
            out["hostile"] = _check("accident", a[0], sent.start + a[1], "an accident")
    return out


@dataclass(frozen=True)
class FrameCues:
    planned: Phrases
    planned_window: int
    stopped: Phrases
    fact_check: Phrases
    background: Phrases
    background_window: int
    justice: Phrases
    history: Phrases
    year_window: int
    fiction: Phrases
    computing: Phrases
    computing_exempt: frozenset[str]
    disaster: Phrases
    accident: Phrases
    test: Phrases
    test_event: str
    retype: frozenset[str]
    test_unless: Phrases
    armed: Phrases
    actors: Phrases
    genres: tuple[tuple[Genre, bool, Phrases], ...]
    any_genre: Phrases
    markets: Phrases
    dates: dict[str, DatePatterns]
    native: dict[str, NativeCues]
    recent_days: int
    near: int


@lru_cache(maxsize=4)
def load_frame(path: Path = DATA / "frame.yaml") -> FrameCues:
    """The frame's cues, validated with `file:line` errors (DataFileError)."""
    spec = read_located(path).validate(FrameFile)
    a, c, h = spec.asserted, spec.current, spec.hostile
    return FrameCues(
        planned=Phrases.of(a.planned.cues),
        planned_window=a.planned.window,
        stopped=Phrases.of(a.stopped),
        fact_check=Phrases.of(a.fact_check),
        background=Phrases.of(c.background.cues),
        background_window=c.background.window,
        justice=Phrases.of(c.justice),
        history=Phrases.of(c.history),
        year_window=c.year_window,
        fiction=Phrases.of(spec.literal.fiction),
        computing=Phrases.of(spec.literal.computing),
        computing_exempt=frozenset(spec.literal.computing_exempt),
        disaster=Phrases.of(h.disaster),
        accident=Phrases.of(h.accident),
        test=Phrases.of(h.test),
        test_event=h.test_event,
        retype=frozenset(h.retype),
        test_unless=Phrases.of(h.test_unless),
        armed=Phrases.of(h.armed),
        actors=Phrases.of(h.actors),
        genres=tuple((g, s.lead, Phrases.of(s.cues)) for g, s in spec.genre.items()),
        any_genre=Phrases.of([c for s in spec.genre.values() for c in s.cues]),
        markets=Phrases.of(spec.markets),
        dates={lang: DatePatterns.of(d) for lang, d in spec.dates.languages.items()},
        native={lang: NativeCues.of(lang, n) for lang, n in spec.native.items()},
        recent_days=spec.dates.recent_days,
        near=spec.dates.near,
    )


# ---- genre --------------------------------------------------------------------------------
@dataclass(frozen=True)
class GenreCall:
    genre: Genre
    cue: str = ""
    start: int | None = None


GENRES: frozenset[str] = frozenset(get_args(Genre))
GENRE_THRESHOLD = 0.8  # the model's call is taken at this confidence or above (MODEL_CARD.md)


def article_genre(
    text: str, sentences: Sentences, cues: FrameCues, model: GenreModel | None = None
) -> GenreCall:
    """The genre from the headline (the first sentence) and, for the genres whose `lead` is set,
    the sentence after it; a headline naming an armed actor, a weapon or harm done ("killed") is
    news, unless it is a fact check or a trial. One search of all genre cues first: most
    headlines hold none and are news at once. Where the cues say nothing, the learned `model`
    (if given) decides, at `GENRE_THRESHOLD` or above, unless the headline is armed."""
    if not sentences:
        return GenreCall("news")
    head = sentences[0]
    lead = sentences[1] if len(sentences) > 1 else None
    in_head = cues.any_genre.search(head.text) is not None
    in_lead = lead is not None and cues.any_genre.search(lead.text) is not None
    if not in_head and not in_lead:
        return _learned_genre(head, lead, cues, model)
    armed = cues.armed.search(head.text) is not None or cues.actors.search(head.text) is not None
    lead_armed: bool | None = None
    for genre, with_lead, phrases in cues.genres:
        if armed and genre not in ("fact-check", "justice"):
            continue
        if in_head and (m := phrases.search(head.text)) is not None:
            return GenreCall(genre, m.group(0), head.start + m.start())
        if with_lead and in_lead and lead is not None:
            if lead_armed is None:
                lead_armed = cues.armed.search(lead.text) is not None
            if not lead_armed and (m := phrases.search(lead.text)) is not None:
                return GenreCall(genre, m.group(0), lead.start + m.start())
    return _learned_genre(head, lead, cues, model)


def _learned_genre(
    head: Sentence, lead: Sentence | None, cues: FrameCues, model: GenreModel | None
) -> GenreCall:
    """The model's genre of the headline and lead when it is confident; news otherwise, and
    always news under a headline naming an armed actor or weapon (as for the cues)."""
    if model is None:
        return GenreCall("news")
    text = head.text if lead is None else f"{head.text} {lead.text}"
    genre, p = model.best(text)
    if genre == "news" or p < GENRE_THRESHOLD or genre not in GENRES:
        return GenreCall("news")
    if cues.armed.search(head.text) is not None or cues.actors.search(head.text) is not None:
        return GenreCall("news")
    return GenreCall(cast(Genre, genre), f"genre model {p:.2f}", head.start)


# ---- the frame of one candidate -----------------------------------------------------------
def _check(label: str, cue: str, start: int | None, reason: str) -> FrameCheck:
    return FrameCheck(ok=False, label=label, cue=cue, start=start, reason=reason)


def _found(p: Phrases, sent: Sentence, lo: int = 0, hi: int | None = None) -> re.Match[str] | None:
    part = sent.text[lo:hi]
    return p.search(part)


def _at(sent: Sentence, m: re.Match[str], lo: int = 0) -> int:
    return sent.start + lo + m.start()


Memo = dict[tuple[int, str], "re.Match[str] | None"]


@dataclass(frozen=True)
class FrameResult:
    frame: EventFrame
    retype: str | None = None  # the event type the frame says it is (a weapons test)


def frame_of(
    cues: FrameCues,
    text: str,
    sent: Sentence,
    start: int,
    end: int,
    trap: tuple[TrapReason, str] | None,
    event_type: str,
    genre: GenreCall,
    ref_year: int | None,
    language: str = "en",
    published: date | None = None,
    memo: Memo | None = None,
    modal: bool = False,
) -> FrameResult:
    """The four axes of the candidate at [start, end) in `sent`; `trap` is what traps.trap_for
    said of it (the axis it fails, with its cue). A `modal` event type (a nuclear threat, an
    exercise or alert) is a threat or a plan by nature: planning words do not unassert it, as
    the hypothetical trap does not. `memo` keeps the sentence-wide searches of an
    article (several candidates share a sentence)."""
    seen: Memo = memo if memo is not None else {}

    def look(name: str) -> re.Match[str] | None:
        key = (sent.start, name)
        if key not in seen:
            seen[key] = getattr(cues, name).search(sent.text)
        return seen[key]

    checks: dict[FrameAxis, FrameCheck] = {}
    if trap is not None:
        reason, cue = trap
        at = text.find(cue, sent.start, sent.end) if cue else -1
        checks[TRAP_AXIS[reason]] = _check(
            reason, cue, at if at >= 0 else None, f"trap: {reason} cue in the sentence"
        )
    lo, hi = start - sent.start, end - sent.start
    armed = look("armed")
    actor = look("actors")
    retype: str | None = None
    # asserted: planned or plotted before it, stopped after it, a fact check in the sentence
    if "asserted" not in checks and not modal:
        clause = _CLAUSE.split(sent.text[:lo])[-1]
        words = tokens(clause)[-cues.planned_window :]
        window = " ".join(words)
        if (m := cues.planned.search(window)) is not None:
            at = text.rfind(m.group(0), sent.start, start)
            checks["asserted"] = _check(
                "planned", m.group(0), at if at >= 0 else None, "planned, plotted or feared"
            )
        elif (m := _found(cues.stopped, sent, hi)) is not None:
            checks["asserted"] = _check(
                "planned", m.group(0), _at(sent, m, hi), "foiled: it did not happen"
            )
        elif (m := look("fact_check")) is not None or genre.genre == "fact-check":
            cue = m.group(0) if m is not None else genre.cue
            pos = _at(sent, m) if m is not None else genre.start
            checks["asserted"] = _check("fact-check", cue, pos, "a claim checked, not an event")
    # current: a trial or verdict, a past or remembered event, an old year next to the trigger
    if "current" not in checks:
        near = " ".join(tokens(sent.text[:lo])[-cues.background_window :])
        if (b := cues.background.search(near)) is not None:
            at = text.rfind(b.group(0), sent.start, start)
            checks["current"] = _check(
                "historical", b.group(0), at if at >= 0 else None, "the background of another story"
            )
        elif (m := look("justice")) is not None:
            checks["current"] = _check(
                "justice", m.group(0), _at(sent, m), "a trial, verdict or charge over it"
            )
        elif genre.genre == "justice":
            checks["current"] = _check(
                "justice", genre.cue, genre.start, "the article is a court report"
            )
        elif (m := look("history")) is not None:
            checks["current"] = _check(
                "historical", m.group(0), _at(sent, m), "remembered or long past"
            )
        elif (y := old_year(sent, lo, hi, cues.year_window, ref_year)) is not None:
            checks["current"] = _check(
                "historical", y.group(0), _at(sent, y), "a past year next to it"
            )
        elif (d := old_date(cues, text, sent, start, end, language, published)) is not None:
            checks["current"] = _check("historical", d[0], d[1], d[2])
        elif genre.genre == "commemoration" and armed is None:
            checks["current"] = _check(
                "historical", genre.cue, genre.start, "the article commemorates"
            )
    # literal: a film, novel or game; a review or sport article without an armed actor;
    # a market report's wording
    if "literal" not in checks:
        if (m := look("fiction")) is not None:
            checks["literal"] = _check("fiction", m.group(0), _at(sent, m), "a story, not news")
        elif genre.genre == "review":
            checks["literal"] = _check("fiction", genre.cue, genre.start, "a review article")
        elif (
            actor is None
            and event_type not in cues.computing_exempt
            and (m := look("computing")) is not None
        ):
            checks["literal"] = _check(
                "metaphor", m.group(0), _at(sent, m), "computing wording, not a weapon"
            )
        elif genre.genre == "sport" and actor is None:
            checks["literal"] = _check("sport", genre.cue, genre.start, "a sport article")
        elif genre.genre == "business" and (m := look("markets")) is not None:
            checks["literal"] = _check(
                "metaphor", m.group(0), _at(sent, m), "a market report's wording"
            )
    # hostile: nature or an accident did it; a weapons test is its own type
    if "hostile" not in checks:
        if armed is None and (m := look("disaster")) is not None:
            checks["hostile"] = _check("disaster", m.group(0), _at(sent, m), "nature did it")
        elif armed is None and genre.genre == "weather":
            checks["hostile"] = _check("disaster", genre.cue, genre.start, "a weather report")
        elif (m := look("accident")) is not None and (
            armed is None or _accident_stronger(m, armed)
        ):
            checks["hostile"] = _check("accident", m.group(0), _at(sent, m), "an accident")
        elif (
            event_type in cues.retype
            and (m := look("test")) is not None
            and look("test_unless") is None
        ):
            retype = cues.test_event
            checks["hostile"] = FrameCheck(
                ok=True,
                label="test",
                cue=m.group(0),
                start=_at(sent, m),
                reason=f"a weapons test: {retype}, not an attack",
            )
    frame = EventFrame(
        **{
            axis: checks.get(axis) or FrameCheck(ok=True, label=_PASS_LABEL[axis])
            for axis in ("asserted", "current", "literal", "hostile")
        }
    )
    return FrameResult(frame, retype)


def _accident_stronger(accident: re.Match[str], armed: re.Match[str]) -> bool:
    """An accident cue that names old munitions made safe wins over the weapon it names
    ("an unexploded wartime bomb was defused"); any other armed word makes it hostile."""
    word = accident.group(0).lower()
    return any(
        w in word for w in ("unexploded", "defused", "disposal", "old munitions", "controlled")
    )


def old_year(
    sent: Sentence, lo: int, hi: int, window: int, ref_year: int | None
) -> re.Match[str] | None:
    """A year within `window` words of the trigger that is before the publication year; with no
    publication date, a year written next to the trigger ("the 1994 bombing", "in 1994")."""
    if window <= 0:
        return None
    before = sent.text[:lo]
    after = sent.text[hi:]
    near_before = " ".join(tokens(before)[-window:])
    near_after = " ".join(tokens(after)[:window])
    for part in (near_before, near_after):
        for y in _YEAR.finditer(part):
            year = int(y.group(1))
            if ref_year is not None and year >= ref_year:
                continue
            if ref_year is None and not _adjacent(before, after, y.group(0)):
                continue
            if part[: y.start()].lower().endswith("since "):  # "since 2003": still going on
                continue
            return _locate(sent.text, y.group(0))
    return None


def old_date(
    cues: FrameCues,
    text: str,
    sent: Sentence,
    start: int,
    end: int,
    language: str,
    published: date | None,
) -> tuple[str, int, str] | None:
    """(cue, position, reason) when a calendar date or an 'N units ago' near the trigger is more
    than `recent_days` before the publication date; None without one (or without a date)."""
    pats = cues.dates.get(language)
    if published is None or pats is None:
        return None
    lo = max(sent.start, start - cues.near)
    hi = min(sent.end, end + cues.near)
    part = text[lo:hi]
    for m, when in pats.dates(part, published):
        age = (published - when).days
        if age > cues.recent_days:
            return m.group(0), lo + m.start(), f"dated {when.isoformat()}, {age} days before"
    for m in pats.ago.finditer(part):
        days = int(m.group(1)) * pats.units.get(m.group(2).lower(), 0)
        if days > cues.recent_days:
            return m.group(0), lo + m.start(), f"{days} days before publication"
    return None


def _adjacent(before: str, after: str, year: str) -> bool:
    """'the 1994 bombing', 'in 1994', '1994 attack': the year right before the trigger (or one
    word away), or 'in YEAR' right after it."""
    last = tokens(before)[-2:]
    nxt = tokens(after)[:2]
    return year in last or (len(nxt) == 2 and nxt[0].lower() in ("in", "of") and nxt[1] == year)


def _locate(stext: str, year: str) -> re.Match[str] | None:
    return re.search(r"\b" + re.escape(year) + r"\b", stext)
