"""Place names in native scripts (Київ, كييف, קייב, 基辅 ...) -> ISO country and English city name.

The names come from data/places_i18n.tsv (built by build_places_i18n.py from CLDR and GeoNames);
the city name is the one services/enrichment/data/cities.tsv uses, so enrichment can take the
coordinates and region from there. Names are matched on folded text (services/text/lexicon.py)
with room for inflection: up to three word characters after a name ("Киеве", "Kiev'e" stops at
the apostrophe) and, in Arabic and Hebrew, clitics before it ("بكييف", "בעזה"). Han names are
matched anywhere (Chinese has no spaces).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import ahocorasick

from services.text.lexicon import fold, fold_word

PLACES = Path(__file__).parent / "data" / "places_i18n.tsv"
_CLITICS = frozenset("وفبلكהובלמשכ")
_INFLECTION = 3  # word characters allowed after a name
_MIN_INFLECTED = 4  # a shorter name must match whole (with clitics)


@dataclass(frozen=True)
class Place:
    start: int
    end: int
    text: str
    country: str
    city: str | None


@lru_cache(maxsize=1)
def _automaton(path: Path = PLACES) -> Any:
    auto = ahocorasick.Automaton()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        name, country, city, _source = line.split("\t")
        key = fold_word(name)
        auto.add_word(key, (len(key), country, city or None))
    auto.make_automaton()
    return auto


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def find_places(text: str, language: str | None = None) -> list[Place]:
    """Every place named in `text`, leftmost-longest, offsets into `text`.

    `language` is accepted for symmetry with detect(); the names of all languages are looked for,
    since articles quote names in other scripts.
    """
    f = fold(text)
    t = f.text
    found: list[tuple[int, int, int, str, str | None]] = []
    for last, (n, country, city) in _automaton().iter(t):
        start, end = last - n + 1, last + 1
        if not _han(t[start]):
            # clitics before (Arabic, Hebrew), then a word start
            b = start
            while b > 0 and t[b - 1] in _CLITICS and start - b < 2:
                b -= 1
            if b > 0 and _is_word(t[b - 1]):
                continue
            e = end
            while e < len(t) and _is_word(t[e]) and e - end < _INFLECTION:
                e += 1
            if e < len(t) and _is_word(t[e]):
                continue
            if e > end and n < _MIN_INFLECTED:
                continue
            end = e
        found.append((start, end, n, country, city))
    # the longest span first, and of equal spans the longest name ("بيروت" over "بيرو" + ت)
    found.sort(key=lambda x: (x[0], -(x[1] - x[0]), -x[2]))
    out: list[Place] = []
    floor = -1
    for start, end, _n, country, city in found:
        if start < floor:
            continue
        a, b = f.span(start, end)
        out.append(Place(a, b, text[a:b], country, city))
        floor = end
    return out
