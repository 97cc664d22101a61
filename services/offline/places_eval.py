"""`newswire eval`'s place figure: the share of the fixture places located to the right GeoNames id.

The fixtures (data/places.tsv) are short sentences about places in the news of wars, spelled as
the English-language press spells them. A place is located exactly when the event's location (or,
without an event, one of the article's place entities) carries the expected `geonames:<id>`.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.ingest.parse import from_mapping

PLACES = Path(__file__).parent / "data" / "places.tsv"


@dataclass(frozen=True)
class PlaceCase:
    sentence: str
    place: str
    country: str
    geonameid: str


def read_cases(path: Path = PLACES) -> list[PlaceCase]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t")
        return [PlaceCase(r["sentence"], r["place"], r["country"], r["geonameid"]) for r in rows]


def located(chain: Any, case: PlaceCase) -> tuple[bool, str]:
    """Whether the sentence's place is the expected one, and what it was located at."""
    tagged = chain.tagged(from_mapping({"title": "Report", "body": case.sentence}))
    want = f"geonames:{case.geonameid}"
    for e in tagged.events:
        if e.location is not None:
            return e.location.ref == want, f"{e.location.name} ({e.location.country})"
    refs = [e.ref for e in tagged.article.entities if e.type == "place"]
    return want in refs, ",".join(r or "" for r in refs) or "nothing"


def report(chain: Any, misses: bool = False, path: Path = PLACES) -> list[str]:
    """Lines for `newswire eval`: located share overall and per country, and the misses."""
    cases = read_cases(path)
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    missed: list[str] = []
    for case in cases:
        ok, got = located(chain, case)
        total[case.country] += 1
        right[case.country] += ok
        if not ok:
            missed.append(f"    {case.place} ({case.country}, {case.geonameid}) -> {got}")
    n, r = sum(total.values()), sum(right.values())
    lines = [
        f"places located exactly: {r}/{n} = {r / n:.3f} ({len(total)} countries)",
        "  " + ", ".join(f"{c} {right[c]}/{total[c]}" for c in sorted(total)),
    ]
    return lines + (missed if misses else [])
