"""Story identity: which open story an article reports, from who/what/where/when and its text.

Pure. An article's `Signature` is its main event (type, location, day), its actors, casualty
figure, time and text sketch; `match` says whether it reports an open story's event:

- same bucket (the event location's country, '-' when no place is known) and within the window;
- same place: the same city, or a city and the admin area it lies in; two different cities or
  admin areas are two stories whatever the wording (text similarity never merges them);
- compatible event types (one shared, the generic "attack" goes with any) and event day;
- a report that names only the country joins a story at country level, or one whose text it
  shares (a paraphrase); its actors and casualty figure must not contradict the story's;
- an article with no event or no place joins only on text similarity (MinHash, else SimHash),
  except one in a language tagging does not read (a translation): the same city or admin area
  within the window is enough; and one where tagging found no event but that gives the same
  city or admin area and the same or a higher toll.

A rising toll at the same place is the same story escalating: its alert rises a severity band.

`decide` is the one story decision, for the offline chain and the alerts worker alike: from what a
`StoryStore` read of the article's bucket, which story the article joins or opens, which of its
(rule, severity) proposals alert, and what a redelivery raises again. The stores (memory for
`analyze`, backtests and benches; Redis for the workers) are in services/alerts/store.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from schemas import SEVERITY_RANK, Alert, Alerted, EventLocation, Severity, Story, TaggedArticle
from schemas.base import utcnow
from services.alerts.origins import Origin, count_in, origin_of
from services.text.location import article_location, location_key
from services.text.similarity import hamming, minhash_of, minhash_similarity

GENERIC = "attack"  # the taxonomy's catch-all violent event: compatible with any specific one
SKETCH = 32  # hashes of an article's bottom-k MinHash kept per story sketch
SKETCHES = 4  # sketches kept per story (the first ones and the latest)
MAX_CANDIDATES = 256  # most recently active stories of a bucket compared with an article


def article_time(tagged: TaggedArticle) -> datetime:
    """Publication time when known, so replaying an archive clusters as the live stream did."""
    t = tagged.article.times
    return t.published or t.ingested or t.tagged or utcnow()


@dataclass(frozen=True)
class Signature:
    """What story identity compares of one article."""

    article_id: str
    at: datetime
    types: frozenset[str]
    location: EventLocation | None
    loc: tuple[str, str, str]  # (country, admin area, place) of the main event, '' unknown
    day: dt.date | None  # the main event's date when its sentence gives one
    casualties: int | None
    actors: frozenset[str]
    sketch: tuple[int, ...] | None  # bottom-k MinHash, truncated to SKETCH
    fingerprint: int | None  # SimHash, when there is no MinHash
    tagged: bool = True  # False: tagging did not read its language (no events could be found)
    origin: Origin | None = None  # its source: wire byline, publisher, text (origins.py)

    @property
    def bucket(self) -> str:
        return self.loc[0] or "-"

    @property
    def level(self) -> int:
        """0 no place, 1 country, 2 admin area, 3 city."""
        c, a, p = self.loc
        return 3 if p else 2 if a else 1 if c else 0


def signature_of(tagged: TaggedArticle) -> Signature:
    art = tagged.article
    events = tagged.events
    location: EventLocation | None = None
    day: dt.date | None = None
    if events:
        main = events[0]  # text order: the headline's or the lead's event
        same = [e for e in events if e.type == main.type and e.location is not None]
        if same:
            best = max(same, key=lambda e: e.location.confidence if e.location else 0.0)
            location = best.location
        day = _event_day(tagged, main.trigger.start)
    else:
        location = article_location(art)
    mh = minhash_of(art)
    fp = int(tagged.fingerprint, 16) if tagged.fingerprint and mh is None else None
    origin = origin_of(art.id, art.url, art.body, mh, fp)
    return Signature(
        article_id=art.id,
        at=article_time(tagged),
        types=frozenset(e.type for e in events),
        location=location,
        loc=location_key(location),
        day=day,
        casualties=tagged.casualties or None,
        actors=frozenset(e.actor for e in events[:3] if e.actor and len(e.actor) == 2),
        sketch=mh[:SKETCH] if mh is not None else None,
        fingerprint=fp,
        tagged=bool(tagged.score_components),  # tag() scores every article of its languages
        origin=origin,
    )


def _event_day(tagged: TaggedArticle, offset: int) -> dt.date | None:
    """The first resolved date in the sentence of the main event's trigger."""
    sents = tagged.article.sentences
    sent = next((s for s in sents if s.start <= offset < s.end), None)
    if sent is None:
        return None
    for tm in tagged.article.time_mentions:
        if (
            sent.start <= tm.start < sent.end
            and tm.date is not None
            and tm.kind in ("date", "weekday", "relative")
        ):
            return tm.date
    return None


@dataclass
class StoryView:
    """An open story: what the next article is compared with, and what it already alerted."""

    id: str
    first_seen: datetime
    last_seen: datetime
    types: set[str]
    location: EventLocation | None
    loc: tuple[str, str, str]
    day: dt.date | None = None
    casualties: int | None = None
    actors: set[str] = field(default_factory=set)
    sketches: list[tuple[int, ...]] = field(default_factory=list)
    fingerprints: list[int] = field(default_factory=list)
    articles: int = 0
    alerted: dict[str, Alerted] = field(default_factory=dict)
    history: list[tuple[Severity, datetime]] = field(default_factory=list)  # severity rises
    tagged: bool = False  # an article of a language tagging reads is in it
    origins: int = 0  # independent sources among its articles
    origin_marks: list[Origin] = field(default_factory=list)  # the first MAX_ORIGINS of them

    @property
    def bucket(self) -> str:
        return self.loc[0] or "-"

    @property
    def level(self) -> int:
        c, a, p = self.loc
        return 3 if p else 2 if a else 1 if c else 0

    @classmethod
    def open(cls, sig: Signature) -> StoryView:
        story = cls(sig.article_id, sig.at, sig.at, set(), sig.location, sig.loc)
        story.join(sig)
        return story

    def join(self, sig: Signature) -> None:
        """Take the article in: its types, a more precise place, the highest toll, its text."""
        self.types |= sig.types
        self.tagged = self.tagged or sig.tagged
        if sig.level > self.level:
            self.location, self.loc = sig.location, sig.loc
        self.day = self.day or sig.day
        if sig.casualties is not None:
            self.casualties = max(self.casualties or 0, sig.casualties)
        self.actors |= sig.actors
        if sig.sketch is not None and sig.sketch not in self.sketches:
            self.sketches.append(sig.sketch)
            if len(self.sketches) > SKETCHES:
                del self.sketches[SKETCHES - 2]  # keep the first ones and the latest
        if sig.fingerprint is not None and sig.fingerprint not in self.fingerprints:
            self.fingerprints = [*self.fingerprints, sig.fingerprint][-SKETCHES:]
        self.first_seen = min(self.first_seen, sig.at)
        self.last_seen = max(self.last_seen, sig.at)
        self.articles += 1
        if sig.origin is not None:
            self.origin_marks, self.origins = count_in(self.origin_marks, self.origins, sig.origin)
        else:
            self.origins = max(self.origins, 1)

    def copy(self) -> StoryView:
        """A copy to change: a decision that loses a race leaves the stored story as it was."""
        return replace(
            self,
            types=set(self.types),
            actors=set(self.actors),
            sketches=list(self.sketches),
            fingerprints=list(self.fingerprints),
            alerted=dict(self.alerted),
            history=list(self.history),
            origin_marks=list(self.origin_marks),
        )

    # -- the record (schemas.Story), for Redis and the dashboard ----------------------------------
    def to_record(self) -> Story:
        return Story(
            **{name: getattr(self, name) for name in _AS_IS},
            types=sorted(self.types),
            actors=sorted(self.actors),
            alerted=dict(sorted(self.alerted.items())),
            origins=self.origins,
            origin_marks=[m.encode() for m in self.origin_marks] or None,
        )

    @classmethod
    def from_record(cls, r: Story) -> StoryView:
        return cls(
            **{name: getattr(r, name) for name in _AS_IS},
            loc=location_key(r.location),
            types=set(r.types),
            actors=set(r.actors),
            alerted=dict(r.alerted),
            origins=1 if r.origins is None else r.origins,
            origin_marks=[Origin.decode(m) for m in r.origin_marks or ()],
        )


# the fields a story record holds as the view does (the record validates copies of the lists)
_AS_IS = (
    "id",
    "first_seen",
    "last_seen",
    "location",
    "day",
    "casualties",
    "sketches",
    "fingerprints",
    "articles",
    "history",
    "tagged",
)


# ---- identity -----------------------------------------------------------------------------
def _place(sig: Signature, story: StoryView) -> str:
    """'same', 'weak' (one side only names the country) or 'different' place; 'none' both unknown."""
    (c1, a1, p1), (c2, a2, p2) = sig.loc, story.loc
    if c1 != c2:
        return "different"
    if not c1:
        return "none"
    if p1 and p2:
        return "same" if p1 == p2 else "different"
    if (p1 or a1) and (p2 or a2):  # city and admin area, or two admin areas
        return "same" if a1 and a1 == a2 else "different"
    return "weak"


def _types_agree(a: Iterable[str], b: Iterable[str]) -> bool:
    x, y = set(a), set(b)
    return bool(x & y) or (GENERIC in x and bool(y)) or (GENERIC in y and bool(x))


def text_similarity(sig: Signature, story: StoryView, floor: float = 0.0) -> float:
    """The best estimated Jaccard (MinHash; else 1 - SimHash distance / 32) with any of the story's
    texts; a sketch sharing fewer than `floor` * k hashes cannot reach `floor` and is skipped."""
    if sig.sketch is not None and story.sketches:
        own = set(sig.sketch)
        best = 0.0
        for s in story.sketches:
            k = min(len(s), len(sig.sketch))
            if k and len(own.intersection(s)) >= floor * k:
                best = max(best, minhash_similarity(sig.sketch, s))
        return best
    if sig.fingerprint is not None and story.fingerprints:
        return max(1.0 - hamming(sig.fingerprint, f) / 32 for f in story.fingerprints)
    return 0.0


@dataclass(frozen=True)
class Rules:
    """The story window and the text thresholds: declared here only (the memory and the Redis
    store, `decide` and every caller take them from one `Rules`)."""

    window: timedelta = timedelta(hours=6)  # an article joins a story active within it
    min_jaccard: float = 0.5  # estimated Jaccard (MinHash) of two wordings of one story
    max_distance: int = 12  # SimHash bits (wire copies: <10; unrelated pairs in our set: >=18)


def match(sig: Signature, story: StoryView, rules: Rules) -> float | None:
    """How well the article fits the story (higher is better), or None when it is another story.
    The cheap facts first; the text is compared only where they leave the question open."""
    if sig.bucket != story.bucket or abs(sig.at - story.last_seen) > rules.window:
        return None
    place = _place(sig, story)
    if place == "different":
        return None
    if sig.day is not None and story.day is not None and sig.day != story.day:
        return None
    typed = bool(sig.types) and bool(story.types)
    if typed and not _types_agree(sig.types, story.types):
        return None
    floor = rules.min_jaccard if sig.sketch is not None else 1.0 - rules.max_distance / 32

    def similar() -> bool:
        return text_similarity(sig, story, floor) >= floor

    if place == "same":
        if typed:
            return 3.0
        if similar():
            return 2.9
        if min(sig.level, story.level) < 2:
            return None
        if not sig.tagged or not story.tagged:
            return 2.5  # a translation (a language tagging does not read) of a local story
        if sig.casualties and story.casualties and 2 * sig.casualties >= story.casualties:
            return 2.2  # no event found in one, but the same place and the same or a rising toll
        return None
    if place == "weak":
        if sig.actors and story.actors and not sig.actors & story.actors and not similar():
            return None  # other actors, and nothing in common in the wording
        if sig.level == story.level == 1 and typed:  # both only name the country
            return 2.0
        return 1.0 if similar() else None
    return 1.0 if similar() else None  # no place on either side: the wording alone


def choose(sig: Signature, candidates: Sequence[StoryView], rules: Rules) -> StoryView | None:
    """The open story this article reports, if any: the best fit, then the most recent."""
    best: tuple[float, datetime, str] | None = None
    found = None
    for s in candidates:
        m = match(sig, s, rules)
        if m is None:
            continue
        key = (m, s.last_seen, s.id)
        if best is None or key > best:
            best, found = key, s
    return found


def live(stories: Iterable[StoryView], at: datetime, window: timedelta) -> list[StoryView]:
    """The stories an article at `at` may join: active within the window, most recent first."""
    out = [s for s in stories if abs(at - s.last_seen) <= window]
    out.sort(key=lambda s: (s.last_seen, s.id), reverse=True)
    return out[:MAX_CANDIDATES]


@dataclass(frozen=True)
class Decision:
    rule_id: str
    severity: Severity
    number: int
    previous: Severity | None


def _alerting(
    story: StoryView,
    proposed: Sequence[tuple[str, Severity]],
    article: str,
    at: datetime,
    window: timedelta,
    redelivered: bool,
    needs: Mapping[str, int],
) -> list[Decision]:
    """Which (rule, severity) proposals alert, updating `story.alerted`: a rule's first alert in
    the story, one more when its severity rises a band, or again after a window without one. A
    redelivered article raises exactly what it raised the first time (same ids), as long as no
    later article of the story alerted the same rule again. A rule that needs more independent
    origins than the story has waits: it alerts with the article that brings the last one."""
    out = []
    for rule_id, severity in proposed:
        prev = story.alerted.get(rule_id)
        if redelivered:
            if prev is not None and prev.article == article:
                out.append(Decision(rule_id, prev.severity, prev.number, prev.previous))
            continue
        if story.origins < needs.get(rule_id, 1):
            continue
        previous: Severity | None = None
        if prev is None or at - prev.at > window:
            number = prev.number + 1 if prev else 0
        elif SEVERITY_RANK[severity] > SEVERITY_RANK[prev.severity]:
            number, previous = prev.number, prev.severity
        else:
            continue  # same story, same rule, no rise: the story's article count already grew
        story.alerted[rule_id] = Alerted(
            severity=severity, at=at, number=number, article=article, previous=previous
        )
        if not story.history or SEVERITY_RANK[severity] > SEVERITY_RANK[story.history[-1][0]]:
            story.history.append((severity, at))
        out.append(Decision(rule_id, severity, number, previous))
    return out


# ---- the one decision, over any store ---------------------------------------------------------
@dataclass(frozen=True)
class StoryRead:
    """What a store read for one article: the bucket's version (the commit's check-and-set), the
    story the article is already in (a redelivery), else the bucket's stories it may join."""

    version: str
    stories: Sequence[StoryView]
    member: StoryView | None = None


@dataclass(frozen=True)
class Decided:
    """The article's story (changed: opened or joined, unless redelivered) and its alerts."""

    story: StoryView
    decisions: list[Decision]
    redelivered: bool


def decide(
    sig: Signature,
    proposed: Sequence[tuple[str, Severity]],
    read: StoryRead,
    rules: Rules,
    needs: Mapping[str, int] | None = None,
) -> Decided:
    """Which story the article joins or opens and which proposals alert; for an article already in
    a story, what it raised the first time. Pure: the stories read are not changed (the one that
    changes is a copy), so a commit that loses a race leaves nothing behind. `needs`: the
    independent origins a rule waits for (its `min_origins`), where more than one."""
    needs = needs or {}
    if read.member is not None:
        member = read.member
        again = _alerting(member, proposed, sig.article_id, sig.at, rules.window, True, needs)
        return Decided(read.member, again, True)
    found = choose(sig, live(read.stories, sig.at, rules.window), rules)
    if found is None:
        story = StoryView.open(sig)
    else:
        story = found.copy()
        story.join(sig)
    return Decided(
        story,
        _alerting(story, proposed, sig.article_id, sig.at, rules.window, False, needs),
        False,
    )


@dataclass(frozen=True)
class StoryChange:
    """One article's decision to write: its story's new state and the alerts to deliver with it,
    valid only while the bucket is still at `version`."""

    version: str
    story: StoryView
    sig: Signature
    alerts: list[Alert]


class StoryStore(Protocol):
    """Where the open stories live: memory (one process) or Redis (any number of workers). The
    engine (services/alerts/core.py `StoryEngine`) reads, `decide`s, then commits."""

    rules: Rules

    async def read_many(self, sigs: Sequence[Signature]) -> list[StoryRead]:
        """For each article, its bucket as it stands (version, member or candidate stories)."""
        ...

    async def commit_many(self, changes: Sequence[StoryChange]) -> list[list[str | None] | None]:
        """Write each change and deliver its alerts: None for a change whose bucket moved on since
        its read (decide again), else per alert its stream entry id, None for a repeat."""
        ...
