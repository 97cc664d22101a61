"""Shared helpers for the enrichment tests: fixture articles and the seed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from schemas import EnrichedArticle, RawArticle
from services.enrichment.core import enrich
from services.ingest.parse import from_mapping, from_text

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "enrichment"
SEED = next((ROOT / "seeds").glob("*.txt"))
PUBLISHED = dt.datetime(2024, 11, 20, 12, 0, tzinfo=dt.UTC)


def load_fixture(path: Path) -> tuple[RawArticle, dict[str, Any]]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    expect = doc.pop("expect")
    return from_mapping(doc, source=path.name), expect


def fixture_paths() -> list[Path]:
    return sorted(FIXTURES.glob("*.json"))


@pytest.fixture(scope="session")
def seed() -> EnrichedArticle:
    raw = from_text(SEED.read_text(encoding="utf-8"), source=SEED.name)
    raw = raw.model_copy(update={"times": raw.times.model_copy(update={"published": PUBLISHED})})
    return enrich(raw)
