"""Entities from shipped data files, matched with one Aho-Corasick automaton built once.

Matches are case-sensitive, whole-word and leftmost-longest, so a listed "Paris Hilton" beats the
place "Paris". Ambiguous names ("Georgia", "Moscow") take the candidate with the best population plus
evidence from the rest of the article (its country or US state named elsewhere). Names that are words
("Nice", "Split", "Of") need a locative; a place after a given name or title is a person ("Nigel
Lawson"), and so are its later bare mentions; a smaller city inside a capitalised run or a firm's name
("Morgan Stanley", "Columbia Gas System Inc") is no place. See data/README.md for the files.
"""

from __future__ import annotations

import csv
import math
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

import ahocorasick
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from schemas import Entity
from services.enrichment import dates
from services.enrichment.placekey import keyed, marked, name_key
from services.text.clean import ascii_fold
from services.text.datafile import read_located

DATA = Path(__file__).parent / "data"

EntityType = Literal["person", "organisation", "place", "weapon", "other"]
_ENTITIES = TypeAdapter(list[Entity])


@dataclass(frozen=True, slots=True)
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
    keyed: list[tuple[str, tuple[Target, ...]]] = field(default_factory=list)


@dataclass
class _Builder:
    by_surface: dict[str, dict[str, Target]] = field(default_factory=lambda: defaultdict(dict))
    by_key: dict[str, list[Target]] = field(default_factory=lambda: defaultdict(list))

    def add_key(self, key: str, target: Target) -> None:
        """A key (placekey) of a spelling: it matches every transliteration of it at once."""
        if len(key) < 3:
            return
        targets = self.by_key[key]  # a list: 200,000 keys, most of one place (dicts cost 40 MB)
        for i, have in enumerate(targets):
            if have.ref == target.ref:
                if target.bonus > have.bonus:
                    targets[i] = target
                return
        targets.append(target)

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


def _place(
    r: dict[str, str], ref: str, country: str | None, kind: str, admin1: str | None
) -> Target:
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
    for r in _rows("regions.csv"):
        t = replace(_place(r, f"region:{r['name']}", "", "region", None), country=None, bonus=6.0)
        for s in {r["name"], *_split(r["aliases"])}:
            b.add(s, t)
    for r in _rows("us_states.csv"):
        b.add(r["name"], _place(r, f"us-state:{r['code']}", "US", "state", r["code"]))
    best: dict[tuple[str, str], Target] = {}
    for r in _rows("cities.tsv"):
        t = _place(r, f"geonames:{r['geonameid']}", r["country"], "city", r["admin1"])
        b.add(r["name"], t)
        for key in r["keys"].split("|"):
            b.add_key(key, t)
        folded = ascii_fold(r["name"])
        if folded != r["name"]:
            b.add(folded, t)
            best.setdefault((folded, r["country"]), t)
        best.setdefault((r["name"], r["country"]), t)  # file is sorted by population
    for r in _rows("place_aliases.csv"):
        target = best.get((r["name"], r["country"]))
        if target is not None:
            b.add(r["alias"], replace(target, bonus=1.5))
            b.add_key(name_key(r["alias"]), replace(target, bonus=1.5))
    for r in _rows("towns.tsv"):
        t = _place(r, f"geonames:{r['geonameid']}", r["country"], "city", r["admin1"])
        for key in r["keys"].split("|"):
            b.add_key(key, t)


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
    surfaces = [
        (surface, tuple(sorted(targets.values(), key=lambda t: -t.prior)))
        for surface, targets in b.by_surface.items()
    ]
    keyed = [
        (key, tuple(sorted(targets, key=lambda t: -t.prior))) for key, targets in b.by_key.items()
    ]
    automaton = _automaton(surfaces, keyed)
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
        keyed,
    )


# Characters of news text, most frequent first (counted on the bench and a real-news corpus).
_FREQUENT_CHARS = (
    " etanirosdlhcupmfg\ny.wb,vkSTAER0CIN1MOxPLDFB2U5389-G647HJKWz'\"qY’()/;“”VjQZX:—–&$%?!"
)


_TITLE = 1  # flags of an automaton key: a title word of _TITLED_NAME
_DATE = 2  # a month, weekday or relative-day word (dates.WORD_FORMS)
_KEY = 4  # a place name in key space (placekey), looked for in the keyed text


def _automaton(
    surfaces: list[tuple[str, tuple[Target, ...]]],
    keyed: list[tuple[str, tuple[Target, ...]]],
) -> ahocorasick.Automaton:
    """One automaton for the names, the title words (`_TITLE_STARTS`), the date words and the
    place names in key space; a key's value is (length, index into `surfaces` or -1,
    _TITLE | _DATE | _KEY flags, index into `keyed` or -1). The names are looked for in the text,
    the keys in the keyed text (`placekey.keyed`): keys are lower case, names capitalised.

    Its root links the frequent characters first: pyahocorasick finds a child by a linear scan
    in insertion order and most characters of a text are looked up at the root, where a
    character no name starts with cost one comparison per first letter (80 of them): the scan
    took 2.4 times as long. They are linked by keys c + NUL of value None, which callers skip
    (found only where a text holds a NUL); the other keys' matches are the same.
    """
    keys: dict[str, tuple[int, int, int, int]] = {
        s: (len(s), i, 0, -1) for i, (s, _) in enumerate(surfaces)
    }
    for words, flag in ((_TITLE_STARTS, _TITLE), (dates.WORD_FORMS, _DATE)):
        for w in words:
            _, i, flags, k = keys.get(w, (0, -1, 0, -1))
            keys[w] = (len(w), i, flags | flag, k)
    for k, (key, _) in enumerate(keyed):
        key = marked(key)
        keys[key] = (len(key), -1, _KEY, k)  # MARK: never the key of a name or a word
    a = ahocorasick.Automaton()
    for c in _FREQUENT_CHARS:
        a.add_word(c + "\0", None)
    for key, value in keys.items():
        a.add_word(key, value)
    a.make_automaton()
    return a


@dataclass
class _Hit:
    start: int
    end: int
    surface: str
    targets: tuple[Target, ...]
    chosen: Target | None = None
    keyed: bool = False  # found in key space: another spelling of a listed name
    evidence: str | None = None  # a shared name: the candidates and what chose one


class NameWords(BaseModel):
    """services/enrichment/data/name_words.yaml: the word lists of the name rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    titles: frozenset[str] = Field(min_length=1)
    not_surname: frozenset[str] = Field(min_length=1)
    corporate: frozenset[str] = Field(min_length=1)
    calendar: frozenset[str] = Field(min_length=1)
    place_prefix: frozenset[str] = Field(min_length=1)


def load_name_words(path: Path = DATA / "name_words.yaml") -> NameWords:
    return read_located(path).validate(NameWords)


NAME_WORDS = load_name_words()


_LOCATIVE = re.compile(
    r"(?:\b(?:in|at|near|from|to|of|outside|around|into|towards?|across|via|visit(?:ed|ing)?|"
    r"city of|town of)\s+)$"
)
_PLACE_AFTER = re.compile(r",\s+(?=[A-Z])")
# "Columbia Gas System Inc", "National Westminster Bank Plc": a city at the head of a firm's name.
_ORG_TAIL = re.compile(
    r"(?:\s+(?:[A-Z][\w&.'’-]*|and|&)){0,3}?\s+(?:Corp|Corporation|Inc|Co|Cos|Company|Ltd|Plc|PLC|AG|SA|NV|"
    r"Group|Bank|Bancorp|Holdings?|Industries|Securities|Airlines|Partners|Fund|Trust|Savings|"
    r"Financial|Capital|Motors|Steel|Chemicals?|Gas|Electric|Power|Energy|Resources|Petroleum|"
    r"Mines|Mining|Telephone|Railroad|Railway|Southern|Insurance)\b"
)
_TITLES = NAME_WORDS.titles
_NOT_SURNAME = NAME_WORDS.not_surname
# An unknown name right after a title or role is a person: "Mayor Ihor Terekhov".
# (the look-ahead holds every alternative's first letter: it lets the scan skip other characters)
_TITLED_NAME = re.compile(
    r"(?=[ACDEGJLMPSacels])\b(?:President|Prime Minister|Minister|Mayor|Governor|Gov\.|Senator|Sen\.|Gen\.|"
    r"Colonel|Col\.|Commander|Chancellor|Ambassador|Secretary|Judge|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|"
    r"[Ss]pokes(?:person|man|woman)|[Ll]eader|[Cc]hief|[Ee]nvoy|[Aa]dviser|[Aa]dvisor)"
    r"\s+(?P<name>[A-Z][a-z][\w'’-]*(?:\s+[A-Z][a-z][\w'’-]*){1,2})"
)
# Every literal a _TITLED_NAME match can start with: the regex is tried only where one occurs.
_TITLE_STARTS = (
    *("President", "Prime Minister", "Minister", "Mayor", "Governor", "Gov.", "Senator", "Sen."),
    *("Gen.", "Colonel", "Col.", "Commander", "Chancellor", "Ambassador", "Secretary", "Judge"),
    *("Mr", "Mrs", "Ms", "Dr", "Spokes", "spokes", "Leader", "leader", "Chief", "chief"),
    *("Envoy", "envoy", "Adviser", "adviser", "Advisor", "advisor"),
)
_CORPORATE = NAME_WORDS.corporate
_CALENDAR = NAME_WORDS.calendar
_PLACE_PREFIX = NAME_WORDS.place_prefix
SMALL_CITY = 300_000  # below this, a city between capitalised words is taken as part of a name
EVIDENCE_CITY = 100_000  # below this, a city does not vouch for its country (it may be a surname)
_CUE_WORD = re.compile(r"[\w-]+")  # a cue with other characters is never one of the words
_PREV_TOKEN = re.compile(r"([A-Z][\w.'’-]*)\s+$")
_NEXT_TOKEN = re.compile(r"\s+([A-Z][a-z][\w'’-]*)")


@dataclass
class Scan:
    """What one pass of the automaton finds in a text."""

    hits: list[_Hit]  # names: whole words, leftmost-longest, overlaps dropped
    titles: list[int]  # where title words start
    dates: list[int]  # where date words start: for dates.time_mentions


def scan(text: str, gaz: Gazetteer | None = None) -> Scan:
    """Names, title words and date words."""
    gaz = gaz or load()
    raw: list[tuple[int, int, int]] = []
    titles: list[int] = []
    date_words: list[int] = []
    n = len(text)
    for end, found in gaz.automaton.iter(text):
        if found is None:
            continue
        length, idx, flags, _k = found
        start = end - length + 1
        if flags:
            if flags & _TITLE:
                titles.append(start)
            if flags & _DATE:
                date_words.append(start)
            if idx < 0:
                continue
        end += 1
        if start > 0 and ((c := text[start - 1]).isalnum() or c == "_"):
            continue
        if end < n and ((c := text[end]).isalnum() or c == "_"):
            continue
        raw.append((start, -end, idx))
    raw.sort()  # by start, longest first (one surface per span: no ties)
    hits: list[_Hit] = []
    last_end = -1
    for start, neg_end, idx in raw:
        if start >= last_end:
            end = -neg_end
            surface, targets = gaz.surfaces[idx]
            hits.append(_Hit(start, end, surface, targets))
            last_end = end
    if gaz.keyed:
        hits = _with_keyed(text, gaz, hits)
    return Scan(hits, titles, date_words)


def _with_keyed(text: str, gaz: Gazetteer, hits: list[_Hit]) -> list[_Hit]:
    """The hits plus the place names found in key space where no name was found: another
    transliteration of a listed place ("Kryvyi Rih" for Kryvyy Rih, "Vinnytsia", a village).
    A keyed name starts with a capital, its last word holds one ("Deir ez-Zor") and it is not
    all capitals."""
    if not hits and not any(c.isupper() for c in text):
        return hits
    ktext, starts, ends = keyed(text)
    taken_starts = [h.start for h in hits]  # sorted, and the names do not overlap
    taken_ends = [h.end for h in hits]
    raw: list[tuple[int, int, int]] = []
    for kend, found in gaz.automaton.iter(ktext):
        if found is None or found[3] < 0:
            continue
        kstart = kend - found[0] + 1
        a, b = starts.get(kstart), ends.get(kend + 1)
        if a is None or b is None or not text[a].isupper():
            continue
        span = text[a:b]
        if span.isupper() or not any(c.isupper() for c in span.split()[-1]):
            continue  # "NICE guidance": an acronym or a shouted word is no keyed place
        raw.append((a, -b, found[3]))
    if not raw:
        return hits
    raw.sort()
    last_end = -1
    added = False
    for a, neg_b, k in raw:
        b = -neg_b
        if a < last_end:
            continue
        i = bisect_left(taken_starts, b) - 1  # the last name starting before this one ends
        if i >= 0 and taken_ends[i] > a:
            continue
        key, targets = gaz.keyed[k]
        if (targets[0].population < EVIDENCE_CITY or len(key) < 6) and not _said_there(text, a):
            continue  # a village's name is a person's as often: only where a place is expected
        hits.append(_Hit(a, b, text[a:b], targets, keyed=True))
        last_end = b
        added = True
    if added:
        hits.sort(key=lambda h: h.start)
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
        if nxt and nxt.group(1) not in _NOT_SURNAME and nxt.group(1) not in _CORPORATE:
            return hit.start, nxt.end(1)
    return None


def _needs_context_ok(text: str, hit: _Hit, hits: dict[int, _Hit]) -> bool:
    """A locative before it ("in Nice") or a known place after a comma ("Split, Croatia")."""
    if text.startswith(" of ", hit.end):
        return False  # "loans to Bank of America"
    before = text[max(0, hit.start - 16) : hit.start]
    if _LOCATIVE.search(before) and not _sentence_initial(text, hit.start):
        return True
    after = _PLACE_AFTER.match(text, hit.end)
    return bool(after and after.end() in hits and hits[after.end()].targets[0].type == "place")


def _evidence(hits: Iterable[_Hit]) -> tuple[Counter[str], set[tuple[str, str]]]:
    """Countries and (country, admin1) pairs named by unambiguous mentions of any entity type
    ("Kremlin" counts for Russia); small cities do not count, they are what needs corroboration."""
    countries: Counter[str] = Counter()
    admins: set[tuple[str, str]] = set()
    for h in hits:
        t = h.targets[0]
        if len(h.targets) > 1 and t.type == "place" and h.targets[1].type == "place":
            continue
        if t.kind == "city" and t.population < EVIDENCE_CITY:
            continue
        if t.country:
            countries[t.country] += 2 if t.kind in ("city", "state") else 1
        if t.country and t.admin1:
            admins.add((t.country, t.admin1))
    return countries, admins


def _resolve(
    hit: _Hit, countries: Counter[str], admins: set[tuple[str, str]]
) -> tuple[Target, str | None]:
    """Population (log10) plus evidence: the country named elsewhere is worth at most 0.8 (a
    town 6x smaller), its state or province 3 (Moscow, Idaho beats Moscow, Russia). Returns the
    choice and, for a shared name, what decided it (the entity's evidence)."""
    if len(hit.targets) == 1:
        return hit.targets[0], None

    def score(t: Target) -> float:
        s = t.prior
        if t.country and countries[t.country]:
            s += 0.4 * min(countries[t.country], 2)
        if t.country and t.admin1 and (t.country, t.admin1) in admins:
            s += 3
        return s

    best = max(hit.targets, key=score)
    places = sum(t.type == "place" for t in hit.targets)
    if best.type != "place" or places < 2:
        return best, None
    if best.country and best.admin1 and (best.country, best.admin1) in admins:
        why = "its region named"
    elif best.country and countries[best.country] and best is not hit.targets[0]:
        why = "its country named"
    else:
        why = "largest population" if best is hit.targets[0] else "population and country"
    return best, f"{places} places of this name; chosen by {why}"


def _is_small_city(h: _Hit | None) -> bool:
    return h is None or (h.targets[0].kind == "city" and h.targets[0].population < SMALL_CITY)


def _capitalised_neighbour(text: str, hit: _Hit, hits: dict[int, _Hit]) -> bool:
    """'Morgan Stanley', 'Nigel Lawson', 'Peabody Holding': a small town inside a longer name."""
    prev = _PREV_TOKEN.search(text, max(0, hit.start - 30), hit.start)
    if (
        prev
        and prev.group(1) not in _PLACE_PREFIX
        and _is_small_city(hits.get(prev.start(1)))
        and not _sentence_initial(text, prev.start(1))
    ):
        return True
    nxt = _NEXT_TOKEN.match(text, hit.end)
    return bool(nxt and nxt.group(1) not in _NOT_SURNAME and _is_small_city(hits.get(nxt.start(1))))


# Words before a place that say something happened there: a keyed town needs one (or a locative).
_STRUCK = re.compile(
    r"\b(?:hit|hits|struck|strikes?|shelled|shelling|bombed|bombing|targeted|attacked|"
    r"pounded|captured|seized|liberated|entered|on|over|outskirts of|village of|settlement of)"
    r"\s+(?:the\s+)?$"
)


def _said_there(text: str, start: int) -> bool:
    """A locative or a strike verb right before `start` ("in", "near", "shelled")."""
    before = text[max(0, start - 24) : start]
    return bool(_STRUCK.search(before) or _LOCATIVE.search(before))


def _keyed_ok(text: str, h: _Hit, hits: dict[int, _Hit]) -> bool:
    """A keyed name of a city of 100,000 or more stands alone; a smaller one needs a locative
    or a strike verb before it (not at a sentence's start)."""
    if h.targets[0].population >= EVIDENCE_CITY and len(h.surface) >= 6:
        return True  # a short keyed name ("Mei" for Meizhou) is a person's as often
    return _needs_context_ok(text, h, hits) or bool(
        _STRUCK.search(text[max(0, h.start - 24) : h.start])
    )


def _keep_place(
    text: str, h: _Hit, g: Gazetteer, hits: dict[int, _Hit], cued: Callable[[tuple[str, ...]], bool]
) -> bool:
    top = h.targets[0]
    if h.keyed and not _keyed_ok(text, h, hits):
        return False
    if h.surface in _CALENDAR:
        return False  # "in March" is a month; the towns called March are not worth the noise
    if top.kind == "city" and _ORG_TAIL.match(text, h.end):
        return False
    context = None
    if h.surface in g.word_places and top.kind == "city":
        context = _needs_context_ok(text, h, hits)
        if not context:
            return False
    if top.kind == "city" and top.population < SMALL_CITY:
        if context is None:
            context = _needs_context_ok(text, h, hits)
        if not context and _capitalised_neighbour(text, h, hits):
            return False
    cues = g.not_place_cues.get(h.surface)
    if cues:
        return not cued(cues)
    return True


def _has_word(low: str, word: str) -> bool:
    """Whether `word` is one of the runs of [\\w-] in `low`: found with str.find, which is far
    cheaper than listing every word of the article or a regex tried at every character."""
    i = low.find(word)
    while i >= 0:
        j = i + len(word)
        if (i == 0 or not _word_char(low[i - 1])) and (j == len(low) or not _word_char(low[j])):
            return True
        i = low.find(word, i + 1)
    return False


def _word_char(c: str) -> bool:
    return c.isalnum() or c in "_-"  # the regex class [\w-]


def _titled_matches(text: str, starts: list[int]) -> Iterator[re.Match[str]]:
    """`_TITLED_NAME.finditer(text)`, tried only at `starts`, where a title word starts (the
    regex alone was tried at every 'a', 'c', 'e', 'l' or 's' and matches in few articles)."""
    last = 0
    for start in sorted(set(starts)):
        if start >= last and (m := _TITLED_NAME.match(text, start)):
            last = m.end()
            yield m


def _titled_people(
    text: str, starts: list[int], covered: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for m in _titled_matches(text, starts):
        a, b = m.span("name")
        if m.group("name").split()[-1] in _CORPORATE:
            continue  # "General Motors Corp"
        if not any(x < b and a < y for x, y in covered):
            found.append((a, b))
            covered.append((a, b))
    return found


def find_entities(
    text: str, gaz: Gazetteer | None = None, found: Scan | None = None
) -> list[Entity]:
    """`found`: `scan(text, gaz)`, if at hand (its hits are used up)."""
    g = gaz or load()
    found = found or scan(text, g)
    hits, title_starts = found.hits, found.titles
    by_start = {h.start: h for h in hits}
    kept: list[_Hit] = []
    people: list[tuple[int, int]] = []
    lower = cache(text.lower)
    cued = cache(lambda cues: any(_CUE_WORD.fullmatch(c) and _has_word(lower(), c) for c in cues))
    for h in hits:
        if h.targets[0].type == "place":
            person = _as_person(text, h, g)
            if person is not None:
                people.append(person)
                continue
            if not _keep_place(text, h, g, by_start, cued):
                continue
        kept.append(h)
    people += _titled_people(text, title_starts, [(h.start, h.end) for h in kept] + people)
    # The bare surname of someone named in full is that person: "Nigel Lawson ... Lawson said".
    surnames = {text[a:b].split()[-1]: " ".join(text[a:b].split()) for a, b in people}
    named: dict[int, str] = {}
    for h in [
        h
        for h in kept
        if h.targets[0].type == "place"
        and h.surface in surnames
        and not _needs_context_ok(text, h, by_start)
    ]:
        kept.remove(h)
        people.append((h.start, h.end))
        named[h.start] = surnames[h.surface]
    countries, admins = _evidence(kept)
    for h in kept:
        h.chosen, h.evidence = _resolve(h, countries, admins)
    # A bare surname of a person named in full earlier is that person, not a place ("Washington").
    listed = {
        h.chosen.name.split()[-1]: h.chosen
        for h in kept
        if h.chosen and h.chosen.type == "person" and " " in h.chosen.name
    }
    for h in kept:
        if h.chosen and h.chosen.type == "place" and h.surface in listed:
            h.chosen = listed[h.surface]
    return _group(text, kept, people, named)


def _group(
    text: str, hits: list[_Hit], people: list[tuple[int, int]], named: dict[int, str]
) -> list[Entity]:
    spans: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    targets: dict[str, Target] = {}
    evidence: dict[str, str] = {}
    for h in hits:
        if h.chosen is not None:
            if h.evidence and h.chosen.type == "place":
                evidence.setdefault(h.chosen.ref, h.evidence)
            targets.setdefault(h.chosen.ref, h.chosen)
            spans[h.chosen.ref].append((h.start, h.end, h.surface))
    last_end = -1
    for start, end in sorted(set(people), key=lambda p: (p[0], -p[1])):
        if start < last_end:
            continue  # "Nigel" and "Lawson" each proposed "Nigel Lawson"
        last_end = end
        name = named.get(start) or " ".join(text[start:end].split())
        t = Target("person", name, f"text:{name}", kind="detected")
        targets.setdefault(t.ref, t)
        spans[t.ref].append((start, end, text[start:end]))
    # Plain dicts validated in one go: about twice as fast as an Entity and a Span model per
    # mention, the same models and the same JSON.
    out = [
        {
            "type": t.type,
            "name": t.name,
            "aliases": sorted({s for _, _, s in found}),
            "mentions": len(found),
            "spans": [{"start": a, "end": b} for a, b, _ in found],
            "country": t.country,
            "lat": t.lat,
            "lon": t.lon,
            "kind": t.kind,
            "admin1": t.admin1,
            "ref": t.ref,
            "evidence": evidence.get(t.ref),
        }
        for t, found in sorted(
            ((targets[ref], sorted(f)) for ref, f in spans.items()),
            key=lambda tf: (-len(tf[1]), tf[1][0][0]),  # most mentions, then first mention
        )
    ]
    return _ENTITIES.validate_python(out)


@cache
def _coordinates() -> dict[tuple[str, str], tuple[str, float, float]]:
    """(name, country) -> (canonical name, lat, lon) of the cities and countries of the tables."""
    out: dict[tuple[str, str], tuple[str, float, float]] = {}
    for row in _rows("countries.csv"):
        out[(row["code"], row["code"])] = (row["name"], float(row["lat"]), float(row["lon"]))
    for row in _rows("cities.tsv"):
        key = (row["name"], row["country"])
        if key not in out:
            out[key] = (row["name"], float(row["lat"]), float(row["lon"]))
    return out


def native_places(text: str, language: str) -> list[Entity]:
    """Places named in a native script or spelling (Київ, كييف, 基辅, Kiew) as place entities with
    their English canonical name, country and coordinates, for the languages with a native
    lexicon: the countries, the country channels and the map then work for those articles."""
    from schemas import Span
    from services.text.places_i18n import find_places

    coords = _coordinates()
    grouped: dict[tuple[str, str], list[tuple[int, int, str]]] = defaultdict(list)
    for p in find_places(text, language):
        grouped[(p.city or p.country, p.country)].append((p.start, p.end, p.text))
    out = []
    for (name, country), found in grouped.items():
        canon = coords.get((name, country)) or coords.get((country, country))
        is_country = name == country
        out.append(
            Entity(
                type="place",
                name=canon[0] if canon and (is_country or canon[0] == name) else name,
                aliases=sorted({t for _, _, t in found}),
                mentions=len(found),
                spans=[Span(start=a, end=b) for a, b, _ in found],
                country=country,
                lat=canon[1] if (canon and canon[0] == name) or (is_country and canon) else None,
                lon=canon[2] if (canon and canon[0] == name) or (is_country and canon) else None,
            )
        )
    return out
