"""The hand-written fixture articles: other regions, other languages and the known traps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.enrichment.core import enrich
from tests.unit.enrichment.conftest import fixture_paths, load_fixture


def test_there_are_enough_fixtures() -> None:
    assert len(fixture_paths()) >= 20


def _matches(obj: Any, want: dict[str, Any]) -> bool:
    return all(
        str(getattr(obj, k)) == str(v) if k == "date" else getattr(obj, k) == v
        for k, v in want.items()
    )


@pytest.mark.parametrize("path", fixture_paths(), ids=lambda p: p.stem)
def test_fixture(path: Path) -> None:
    raw, expect = load_fixture(path)
    article = enrich(raw)
    entities = {(e.type, e.name): e for e in article.entities}
    if "language" in expect:
        assert article.language == expect["language"]
    for want in expect.get("entities", []):
        got = entities.get((want["type"], want["name"]))
        assert got is not None, f"{want} not in {sorted(entities)}"
        assert _matches(got, want), f"{got} != {want}"
    for absent in expect.get("absent", []):
        assert (absent["type"], absent["name"]) not in entities
    assert set(expect.get("countries_include", [])) <= set(article.countries)
    assert not set(expect.get("countries_exclude", [])) & set(article.countries)
    for kind, found in (
        ("quantities", article.quantities),
        ("casualties", article.casualties),
        ("dates", article.time_mentions),
    ):
        for want in expect.get(kind, []):
            assert any(_matches(x, want) for x in found), f"{want} not in {found}"
    if expect.get("no_english_steps"):
        assert article.tone is None and not article.quantities and not article.casualties
        assert all(s.polarity == 0.0 for s in article.sentences)
    if expect.get("no_html"):
        assert (
            "<" not in article.text and "&amp;" not in article.text and "\xa0" not in article.text
        )
    for e in article.entities:
        for s in e.spans:
            assert article.text[s.start : s.end] in e.aliases or e.kind == "detected"
