"""Where an event happened (GDELT's ActionGeo), from its sentence and the sentences around it.

Pure: the article's place entities (with spans, country, admin area and coordinates from the
gazetteer) and the trigger's offsets in. The place the event hit wins over the speaker's or the
supplier's country: a place after "in / on / at / near / hit" is the place, one after "from / by"
or before "said / -supplied" is not. Below country level beats a country; the event's own sentence
beats its neighbours; the event's target country is the fallback, then the article's main place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from schemas import EventLocation
from services.text.sentences import Sentence

LOCAL = ("city", "state", "region", "province", "oblast")
# the words right before a place that make it where something happened
_AT = re.compile(
    r"\b(?:in|on|at|near|outside|over|into|onto|inside|across|around|hit|hits|struck|strikes?|"
    r"shelled|shelling|bombed|bombing|targeted|targeting|targets|pounded|attacked|of)\s+"
    r"(?:the\s+)?(?:(?:city|town|village|port|region|province|oblast|capital|outskirts)\s+of\s+)?"
    r"(?:\w+\s+)?$",
    re.I,
)
# ... and those that make it an origin or an author instead
_FROM = re.compile(r"\b(?:from|by)\s+(?:the\s+)?(?:\w+\s+)?$", re.I)
_SPEAKER = re.compile(
    r"^['’]?s?\s*(?:officials?\s+)?(?:said|says|say|claimed|claims|announced|accused|denied|"
    r"responded|warned|told|reported|confirmed|condemned|threatened|vowed)\b",
    re.I,
)
_SUPPLIED = re.compile(r"^\s*-?\s*(?:supplied|made|built|provided|backed|donated)\b", re.I)


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    entity: Any  # schemas.Entity

    @property
    def local(self) -> bool:
        return self.entity.kind not in (None, "country")


def place_mentions(article: Any) -> list[_Mention]:
    """Every place mention of the article, in text order."""
    out = [
        _Mention(s.start, s.end, e)
        for e in getattr(article, "entities", ())
        if e.type == "place"
        for s in e.spans
    ]
    return sorted(out, key=lambda m: (m.start, m.end))


def _score(m: _Mention, text: str, trigger: tuple[int, int], actor: str | None) -> float:
    """How much this mention looks like the place the event hit (0 = not at all)."""
    before = text[max(0, m.start - 40) : m.start]
    after = text[m.end : m.end + 40]
    if _FROM.search(before) or _SUPPLIED.match(after):
        return 0.0
    score = 0.75
    if _AT.search(before):
        score += 0.15
    if _SPEAKER.match(after):
        score -= 0.3
    if m.entity.country is not None and m.entity.country == actor and not m.local:
        score -= 0.3  # "Russian missiles": the actor's country is not where they landed
    if m.entity.kind == "city":
        score += 0.02  # a city is more precise than its region
    return max(score, 0.0)


def _location(m: _Mention, confidence: float, source: str) -> EventLocation:
    e = m.entity
    admin1 = e.admin1
    if admin1 is None and e.kind == "state" and e.ref and e.ref.startswith("us-state:"):
        admin1 = e.ref.split(":", 1)[1]
    return EventLocation(
        precision=precision(e.kind),
        evidence=getattr(e, "evidence", None),
        name=e.name,
        kind=e.kind,
        country=e.country,
        admin1=admin1,
        lat=e.lat,
        lon=e.lon,
        ref=e.ref,
        confidence=round(min(confidence, 1.0), 2),
        source=source,
    )


def precision(kind: str | None) -> Literal["town", "admin2", "admin1", "country"]:
    """The precision code of a place of this kind (a region such as Donbas counts as admin1)."""
    if kind == "city":
        return "town"
    if kind in ("county", "district"):
        return "admin2"
    if kind in LOCAL:
        return "admin1"
    return "country"


def _index(sentences: Sequence[Sentence], offset: int) -> int | None:
    for i, s in enumerate(sentences):
        if s.start <= offset < s.end:
            return i
    return None


def event_location(
    article: Any,
    text: str,
    sentences: Sequence[Sentence],
    start: int,
    end: int,
    actor: str | None = None,
    target: str | None = None,
    mentions: Sequence[_Mention] | None = None,
) -> EventLocation | None:
    """Where the event whose trigger is text[start:end] happened, or None when no place is known."""
    places = list(mentions) if mentions is not None else place_mentions(article)
    if not places:
        return None
    i = _index(sentences, start)
    if i is not None:
        sent = sentences[i]
        own = [m for m in places if sent.start <= m.start < sent.end]
        best = _best([m for m in own if m.local], text, (start, end), actor, target)
        if best is not None and best[1] >= 0.5:
            return _location(best[0], best[1], "sentence")
        near = [
            m
            for j in (i - 1, i + 1)
            if 0 <= j < len(sentences)
            for m in places
            if sentences[j].start <= m.start < sentences[j].end and m.local
        ]
        # a neighbour's city counts when it agrees with the event's target (or nothing is known)
        near = [m for m in near if target is None or len(target) != 2 or m.entity.country == target]
        nb = _best(near, text, (start, end), actor, target)
        if nb is not None and nb[1] >= 0.85:  # only a place the neighbour says was hit
            return _location(nb[0], nb[1] - 0.15, "neighbour")
        countries = _best([m for m in own if not m.local], text, (start, end), actor, target)
    else:
        countries = None
    if target is not None:
        hit = next((m for m in places if m.entity.country == target and not m.local), None)
        if hit is not None:
            return _location(hit, 0.5, "target")
    if countries is not None and countries[1] >= 0.5:
        return _location(countries[0], 0.4, "sentence")
    # the actor's country is where the attack came from, not where it happened
    return _article_place([m for m in places if m.local or m.entity.country != actor])


def _best(
    cands: list[_Mention],
    text: str,
    trigger: tuple[int, int],
    actor: str | None,
    target: str | None,
) -> tuple[_Mention, float] | None:
    best: tuple[_Mention, float, int] | None = None
    for m in cands:
        s = _score(m, text, trigger, actor)
        if target is not None and m.entity.country == target:
            s += 0.05
        dist = m.start - trigger[1] if m.start >= trigger[1] else trigger[0] - m.end + 1
        if best is None or (s, -dist) > (best[1], -best[2]):
            best = (m, s, dist)
    return (best[0], best[1]) if best is not None else None


def _article_place(places: Sequence[_Mention]) -> EventLocation | None:
    """No place near the event: the article's most-mentioned place below country level, else its
    most-mentioned country, with a low confidence."""
    if not places:
        return None
    by_entity: dict[int, tuple[_Mention, int]] = {}
    for m in places:
        key = id(m.entity)
        by_entity.setdefault(key, (m, m.entity.mentions))
    local = [v for v in by_entity.values() if v[0].local]
    if local:
        m = max(local, key=lambda v: v[1])[0]
        return _location(m, 0.3, "article")
    m = max(by_entity.values(), key=lambda v: v[1])[0]
    return _location(m, 0.2, "article")


def location_key(loc: EventLocation | None) -> tuple[str, str, str]:
    """(country, admin area, place) of a location, '' where unknown: what story identity compares."""
    if loc is None:
        return ("", "", "")
    if loc.kind in (None, "country"):
        return (loc.country or loc.name, "", "")
    if loc.kind == "city":
        return (loc.country or "", loc.admin1 or "", loc.ref or loc.name)
    return (loc.country or "", loc.admin1 or loc.ref or loc.name, "")


def with_locations(
    events: Sequence[Any], article: Any, text: str, sentences: Sequence[Sentence]
) -> list[Any]:
    """The events (EventMention) with their `location` set: tagging's one call."""
    if not events:
        return list(events)
    places = place_mentions(article)
    return [
        e.model_copy(
            update={
                "location": event_location(
                    article,
                    text,
                    sentences,
                    e.trigger.start,
                    e.trigger.end,
                    e.actor,
                    e.target,
                    places,
                )
            }
        )
        for e in events
    ]


def article_location(article: Any) -> EventLocation | None:
    """An article without an event: its main place, with a low confidence."""
    places = place_mentions(article)
    return _article_place(places) if places else None
