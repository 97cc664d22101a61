"""Per-article evaluation: the labelled AG world sample, dates and halves (no corpora needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.ingest.parse import from_mapping
from services.offline.articles import AG_LABELS, Item, _reuters_date, load_labels


def test_the_labelled_sample_holds_ids_and_labels_only() -> None:
    labels = load_labels(AG_LABELS)
    assert len(labels) == 100
    assert {v for v, _ in labels.values()} == {0, 1}
    assert all(k.startswith("ag") and k[2:].isdigit() for k in labels)
    halves = {Item("ag-world", k, from_mapping({"title": "t", "body": "b"})).part for k in labels}
    assert halves == {"tune", "report"}


def test_a_bad_label_line_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "labels.tsv"
    p.write_text("# header\nag1\t1\tattack\nag2\tyes\tattack\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"labels.tsv:3:"):
        load_labels(p)


def test_reuters_dates_become_iso() -> None:
    assert _reuters_date("24-MAR-1987 15:59:17") == "1987-03-24T15:59:17+00:00"
    assert _reuters_date("2-Apr-1987 01:02:03") == "1987-04-02T01:02:03+00:00"
