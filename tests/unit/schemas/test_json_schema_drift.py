"""The exported JSON Schemas are what other-language consumers use: they must match the models."""

from __future__ import annotations

from schemas.export import JSON_DIR, render


def test_exported_json_schemas_match_models() -> None:
    expected = render()
    for filename, text in expected.items():
        path = JSON_DIR / filename
        assert path.exists(), f"{path} missing: run `newswire schemas`"
        assert path.read_text(encoding="utf-8") == text, (
            f"{path} drifted from the model: run `newswire schemas` and commit"
        )
    stray = {p.name for p in JSON_DIR.glob("*.schema.json")} - set(expected)
    assert not stray, f"schema files without a model: {stray}"
