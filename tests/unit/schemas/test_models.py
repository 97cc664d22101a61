from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas import MODELS, DeadLetter, RawArticle


def test_raw_article_round_trips_through_json() -> None:
    art = RawArticle(title="Title", body="Body", url="https://example.com/x")  # type: ignore[call-arg]
    again = RawArticle.model_validate_json(art.model_dump_json())
    assert again == art


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="extra"):
        RawArticle.model_validate({"title": "t", "body": "b", "colour": "red"})


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_has_a_schema_version(name: str) -> None:
    assert "schema_version" in MODELS[name].model_fields


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_validate_as_an_article_by_accident(data: bytes) -> None:
    try:
        RawArticle.model_validate_json(data)
    except ValidationError:
        return
    doc = json.loads(data)
    assert doc["title"] and doc["body"]


def test_dead_letter_requires_reason() -> None:
    with pytest.raises(ValidationError):
        DeadLetter.model_validate({"stage": "x", "topic": "t", "value": ""})
