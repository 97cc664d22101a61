from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ingest.parse import ArticleError, from_mapping, from_text, read_paths


def test_from_mapping_names_the_missing_field() -> None:
    with pytest.raises(ArticleError, match="title"):
        from_mapping({"body": "text"})


def test_from_mapping_rejects_non_objects() -> None:
    with pytest.raises(ArticleError, match="JSON object"):
        from_mapping(["title", "body"])


def test_published_at_goes_into_stage_times() -> None:
    art = from_mapping({"title": "T", "body": "B", "published_at": "2024-11-19T10:00:00Z"})
    assert art.times.published is not None
    assert art.times.published.year == 2024


def test_text_with_heading_uses_it_as_title() -> None:
    art = from_text("# Strike on depot\n\nMissiles hit the depot.")
    assert art.title == "Strike on depot"
    assert art.body == "Missiles hit the depot."


def test_text_without_title_line_takes_first_sentence(seed_path: Path) -> None:
    art = from_text(seed_path.read_text(encoding="utf-8"))
    assert art.title.startswith("Ukraine has escalated its military actions against Russia")
    assert art.title.endswith(".")
    assert "ATACMS" in art.body


def test_read_paths_reports_bad_files_and_keeps_going(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(
        json.dumps({"title": "A", "body": "a"}) + "\nnot json\n" + json.dumps({"body": "x"}) + "\n"
    )
    (tmp_path / "b.txt").write_bytes(b"\xff\xfe broken")
    (tmp_path / "c.md").write_text("# C\n\nbody c")
    (tmp_path / "ignored.bin").write_bytes(b"\x00")
    items = list(read_paths([tmp_path, tmp_path / "missing.txt"]))
    good = [i.article.title for i in items if i.article]
    bad = [(i.path.name, i.line) for i in items if i.error]
    assert good == ["A", "C"]
    assert ("a.jsonl", 2) in bad
    assert ("a.jsonl", 3) in bad
    assert ("b.txt", None) in bad
    assert ("missing.txt", None) in bad


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["title", "body", "url", "x", "published_at"]), children)
    ),
    max_leaves=10,
)


@given(json_values)
def test_from_mapping_raises_only_article_error(value: object) -> None:
    try:
        art = from_mapping(value)
    except ArticleError as exc:
        assert str(exc)
    else:
        assert art.title and art.body and art.id
