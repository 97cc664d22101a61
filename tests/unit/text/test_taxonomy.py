"""The taxonomy file is validated when it loads: every problem named with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.text.datafile import DataFileError
from services.text.taxonomy import DATA, load_taxonomy


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = (DATA / "taxonomy.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "taxonomy.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_shipped_taxonomy_loads() -> None:
    tax = load_taxonomy()
    assert {"missile-strike", "airstrike", "nuclear-threat"} <= {e.id for e in tax.events}


def test_a_missing_field_names_file_line_and_field(tmp_path: Path) -> None:
    path = _variant(tmp_path, "    weight: 4.0\n", "")
    with pytest.raises(DataFileError) as err:
        load_taxonomy(path)
    line = err.value.problems[0]
    assert line.startswith(f"{path}:") and "events.missile-strike.weight" in line
    assert "Field required" in line


def test_a_bad_phrase_and_an_unknown_refine_target_are_both_reported(tmp_path: Path) -> None:
    path = _variant(tmp_path, "triggers: [missile strike*,", "triggers: [... missile strike*,")
    with pytest.raises(DataFileError) as err:
        load_taxonomy(path)
    assert "events.missile-strike.triggers" in str(err.value)
    path = _variant(tmp_path, "      drone-attack: [drone*", "      drone-raid: [drone*")
    with pytest.raises(DataFileError) as err:
        load_taxonomy(path)
    (problem,) = err.value.problems
    assert "unknown event type 'drone-raid'" in problem
    lineno = int(problem.split(":")[1])
    assert "drone-raid" in path.read_text(encoding="utf-8").splitlines()[lineno - 1]


def test_an_unknown_key_is_refused(tmp_path: Path) -> None:
    path = _variant(tmp_path, "  airstrike:\n    label:", "  airstrike:\n    lable: x\n    label:")
    with pytest.raises(DataFileError, match="lable"):
        load_taxonomy(path)
