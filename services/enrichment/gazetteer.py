"""Entities from shipped data files, matched with one Aho-Corasick automaton built once.

Places are case-sensitive and whole-word; ambiguous names ("Georgia", "Moscow", "Paris") pick the
candidate with the best score of population plus evidence from the rest of the article (its other
unambiguous places); place names that are ordinary words ("Nice", "Split", "Of") need a locative
context; a place right after a given name or title is part of a person's name ("Paris Hilton").
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Literal

import ahocorasick

from schemas import Entity, Span
from services.enrichment.text import ascii_fold

DATA = Path(__file__).parent / "data"

EntityType = Literal["person", "organisation", "place", "weapon", "other"]


@dataclass(frozen=True)
class Target:
    """What a surface form can refer to."""

    type: EntityType
    name: str
    ref: str
    country: str | None = None
    lat: float | None = None
    lon: float | None = None
    kind: str | None = None
    admin1: str | None = None
    population: int = 0
    bonus: float = 0.0  # preferred reading of a shared name (an alias file entry, a country)

    @property
    def prior(self) -> float:
        return math.log10(self.population + 10) + self.bonus


@dataclass
class Gazetteer:
    automaton: ahocorasick.Automaton
    surfaces: list[tuple[str, tuple[Target, ...]]]
    word_places: frozenset[str]
    first_names: frozenset[str]
    not_place_cues: dict[str, tuple[str, ...]]
    size: int = 0


@dataclass
class _Builder:
    by_surface: dict[str, dict[str, Target]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, surface: str, target: Target) -> None:
        surface = surface.strip()
        if len(surface) < 2:
            return
        have = self.by_surface[surface].get(target.ref)
        if have is None or target.bonus > have.bonus:
            self.by_surface[surface][target.ref] = target


def _rows(name: str) -> Iterator[dict[str, str]]:
    path = DATA / name
    with path.open(encoding="utf-8", newline="") as f:
        delimiter = "\t" if path.suffix == ".tsv" else ","
        yield from csv.DictReader(f, delimiter=delimiter)


def _words(name: str) -> frozenset[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return frozenset(
        w for line in text.splitlines() if not line.startswith("#") for w in line.split()
    )


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split("|") if v.strip()]


def _place(r: dict[str, str], ref: str, country: str, kind: str, admin1: str | None) -> Target:
    return Target(
        "place",
        r["name"],
        ref,
        country,
        float(r["lat"]),
        float(r["lon"]),
        kind,
        admin1,
        int(r.get("population") or 0),
        bonus=0.8 if kind == "country" else 0.0,
    )


def _add_places(b: _Builder) -> None:
    for r in _rows("countries.csv"):
        t = _place(r, f"iso:{r['code']}", r["code"], "country", None)
        for s in {r["name"], *_split(r["aliases"])}:
            b.add(s, t)
        for s in _split(r["demonyms"]):
            b.add(s, replace(t, bonus=1.5))
    for r in _rows("us_states.csv"):
        b.add(r["name"], _place(r, f"us-state:{r['code']}", "US", "state", r["code"]))
    best: dict[tuple[str, str], Target] = {}
    for r in _rows("cities.tsv"):
        t = _place(r, f"geonames:{r['geonameid']}", r["country"], "city", r["admin1"])
        b.add(r["name"], t)
        folded = ascii_fold(r["name"])
        if folded != r["name"]:
            b.add(folded, t)
            best.setdefault((folded, r["country"]), t)
        best.setdefault((r["name"], r["country"]), t)  # file is sorted by population
    for r in _rows("place_aliases.csv"):
        target = best.get((r["name"], r["country"]))
        if target is not None:
            b.add(r["alias"], replace(target, bonus=1.5))


def _add_listed(b: _Builder, filename: str, type_: EntityType, kind_column: str) -> None:
    for r in _rows(filename):
        t = Target(
            type_,
            r["name"],
            f"data:{filename}:{r['name']}",
            r.get("country") or None,
            kind=r.get(kind_column) or None,
            bonus=10.0,  # a listed person/organisation/weapon beats a place of the same name
        )
        for s in {r["name"], *_split(r["aliases"])}:
            b.add(s, t)


@lru_cache(maxsize=1)
def load() -> Gazetteer:
    """Build the automaton once per process (about a second; see the bench module)."""
    b = _Builder()
    _add_places(b)
    _add_listed(b, "people.csv", "person", "role")
    _add_listed(b, "organisations.csv", "organisation", "kind")
    _add_listed(b, "weapons.csv", "weapon", "kind")
    automaton = ahocorasick.Automaton()
    surfaces: list[tuple[str, tuple[Target, ...]]] = []
    for surface, targets in b.by_surface.items():
        ranked = tuple(sorted(targets.values(), key=lambda t: -t.prior))
        automaton.add_word(surface, len(surfaces))
        surfaces.append((surface, ranked))
    automaton.make_automaton()
    cues = {
        r["surface"]: tuple(c.lower() for c in _split(r["cues"]))
        for r in _rows("not_place_cues.csv")
    }
    return Gazetteer(
        automaton,
        surfaces,
        _words("word_places.txt"),
        _words("first_names.txt"),
        cues,
        len(surfaces),
    )


@dataclass
class _Hit:
    start: int
    end: int
    surface: str
    targets: tuple[Target, ...]
    chosen: Target | None = None


_LOCATIVE = re.compile(
    r"(?:\b(?:in|at|near|from|to|of|outside|around|into|towards?|across|via|visit(?:ed|ing)?|"
    r"city of|town of)\s+)$"
)
_PLACE_AFTER = re.compile(r",\s+[A-Z]")
_TITLES = frozenset(
    [
        "Mr",
        "Mr.",
        "Mrs",
        "Mrs.",
        "Ms",
        "Ms.",
        "Dr",
        "Dr.",
        "Sen.",
        "Senator",
        "Rep.",
        "Gov.",
        "Governor",
        "President",
        "Coach",
        "Judge",
        "Justice",
        "General",
        "Gen.",
        "Colonel",
        "Col.",
        "Lt.",
        "Captain",
        "Capt.",
        "Sir",
        "Dame",
        "Lord",
        "Lady",
        "Prince",
        "Princess",
        "King",
        "Queen",
        "Minister",
        "Secretary",
        "Chancellor",
        "Mayor",
        "Ambassador",
    ]
)
_NOT_SURNAME = frozenset(
    [
        "River",
        "Valley",
        "Street",
        "Avenue",
        "Road",
        "City",
        "State",
        "County",
        "Province",
        "Region",
        "Sea",
        "Lake",
        "Bay",
        "Airport",
        "University",
        "College",
        "Times",
        "Post",
        "Herald",
        "Journal",
        "Police",
        "Army",
        "Navy",
        "Government",
        "Square",
        "Bridge",
        "Station",
        "Park",
        "Stock",
        "Exchange",
        "Times",
        "Club",
        "Cup",
        "Open",
        "Marathon",
        "Games",
        "Agreement",
        "Accord",
        "Summit",
        "Declaration",
        "Basin",
        "Gulf",
        "Strait",
        "Canal",
        "Mountains",
        "Hills",
        "Island",
        "Islands",
        "Peninsula",
    ]
)
# An unknown name right after a title or role is a person: "Mayor Ihor Terekhov".
_TITLED_NAME = re.compile(
    r"\b(?:President|Prime Minister|Minister|Mayor|Governor|Gov\.|Senator|Sen\.|General|Gen\.|"
    r"Colonel|Col\.|Commander|Chancellor|Ambassador|Secretary|Judge|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|"
    r"[Ss]pokes(?:person|man|woman)|[Ll]eader|[Cc]hief|[Ee]nvoy|[Aa]dviser|[Aa]dvisor)"
    r"\s+(?P<name>[A-Z][a-z][\w'’-]*(?:\s+[A-Z][a-z][\w'’-]*){1,2})"
)
_PREV_TOKEN = re.compile(r"([A-Z][\w.'’-]*)\s+$")
_NEXT_TOKEN = re.compile(r"\s+([A-Z][a-z][\w'’-]*)")


def _candidates(text: str, gaz: Gazetteer) -> list[_Hit]:
    """Whole-word matches, leftmost-longest, overlaps dropped."""
    raw: list[tuple[int, int, int]] = []
    n = len(text)
    for end_idx, idx in gaz.automaton.iter(text):
        surface = gaz.surfaces[idx][0]
        start = end_idx - len(surface) + 1
        end = end_idx + 1
        if start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
            continue
        if end < n and (text[end].isalnum() or text[end] == "_"):
            continue
        raw.append((start, end, idx))
    raw.sort(key=lambda h: (h[0], h[0] - h[1]))
    hits: list[_Hit] = []
    last_end = -1
    for start, end, idx in raw:
        if start >= last_end:
            surface, targets = gaz.surfaces[idx]
            hits.append(_Hit(start, end, surface, targets))
            last_end = end
    return hits


def _sentence_initial(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \"'“‘(":
        i -= 1
    return i < 0 or text[i] in ".!?\n:"


def _as_person(text: str, hit: _Hit, gaz: Gazetteer) -> tuple[int, int] | None:
    """Span of a person's name that contains this place name, if the context says so."""
    prev = _PREV_TOKEN.search(text, max(0, hit.start - 30), hit.start)
    if prev and (prev.group(1) in gaz.first_names or prev.group(1) in _TITLES):
        return prev.start(1), hit.end
    if hit.surface in gaz.first_names:
        nxt = _NEXT_TOKEN.match(text, hit.end)
        if nxt and nxt.group(1) not in _NOT_SURNAME:
            return hit.start, nxt.end(1)
    return None


def _needs_context_ok(text: str, hit: _Hit) -> bool:
    before = text[max(0, hit.start - 16) : hit.start]
    if _LOCATIVE.search(before) and not _sentence_initial(text, hit.start):
        return True
    return bool(_PLACE_AFTER.match(text, hit.end))


def _evidence(hits: Iterable[_Hit]) -> tuple[Counter[str], set[tuple[str, str]]]:
    """Countries and (country, admin1) pairs named by unambiguous mentions."""
    countries: Counter[str] = Counter()
    admins: set[tuple[str, str]] = set()
    for h in hits:
        places = [t for t in h.targets if t.type == "place"]
        if len(places) != 1 or places[0] is not h.targets[0]:
            continue
        t = places[0]
        if t.country:
            countries[t.country] += 3 if t.kind in ("city", "state") else 2
        if t.country and t.admin1:
            admins.add((t.country, t.admin1))
    return countries, admins


def _resolve(hit: _Hit, countries: Counter[str], admins: set[tuple[str, str]]) -> Target:
    if len(hit.targets) == 1:
        return hit.targets[0]

    def score(t: Target) -> float:
        s = t.prior
        if t.country and countries[t.country]:
            s += min(countries[t.country], 3)
        if t.country and t.admin1 and (t.country, t.admin1) in admins:
            s += 3
        return s

    return max(hit.targets, key=score)


def find_entities(text: str, gaz: Gazetteer | None = None) -> list[Entity]:
    g = gaz or load()
    hits = _candidates(text, g)
    lowered_words: set[str] | None = None
    kept: list[_Hit] = []
    people: list[tuple[int, int]] = []
    for h in hits:
        top = h.targets[0]
        if top.type == "place":
            person = _as_person(text, h, g)
            if person is not None:
                people.append(person)
                continue
            if h.surface in g.word_places and top.kind == "city" and not _needs_context_ok(text, h):
                continue
            cues = g.not_place_cues.get(h.surface)
            if cues:
                if lowered_words is None:
                    lowered_words = set(re.findall(r"[\w-]+", text.lower()))
                if any(c in lowered_words for c in cues):
                    continue
        kept.append(h)
    covered = [(h.start, h.end) for h in kept] + people
    for m in _TITLED_NAME.finditer(text):
        a, b = m.span("name")
        if not any(x < b and a < y for x, y in covered):
            people.append((a, b))
            covered.append((a, b))
    countries, admins = _evidence(kept)
    for h in kept:
        h.chosen = _resolve(h, countries, admins)
    # A bare surname of a person named in full earlier is that person, not a place ("Washington").
    surnames = {
        h.chosen.name.split()[-1]: h.chosen
        for h in kept
        if h.chosen and h.chosen.type == "person" and " " in h.chosen.name
    }
    for h in kept:
        if h.chosen and h.chosen.type == "place" and h.surface in surnames:
            h.chosen = surnames[h.surface]
    return _group(text, kept, people)


def _group(text: str, hits: list[_Hit], people: list[tuple[int, int]]) -> list[Entity]:
    spans: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    targets: dict[str, Target] = {}
    for h in hits:
        if h.chosen is not None:
            targets.setdefault(h.chosen.ref, h.chosen)
            spans[h.chosen.ref].append((h.start, h.end, h.surface))
    for start, end in people:
        name = text[start:end]
        t = Target("person", name, f"text:{name}", kind="detected")
        targets.setdefault(t.ref, t)
        spans[t.ref].append((start, end, name))
    out = [
        Entity(
            type=t.type,
            name=t.name,
            aliases=sorted({s for _, _, s in found}),
            mentions=len(found),
            spans=[Span(start=a, end=b) for a, b, _ in found],
            country=t.country,
            lat=t.lat,
            lon=t.lon,
            kind=t.kind,
            admin1=t.admin1,
            ref=t.ref,
        )
        for t, found in ((targets[ref], sorted(f)) for ref, f in spans.items())
    ]
    out.sort(key=lambda e: (-e.mentions, e.spans[0].start))
    return out
