"""Quality of "article gets an alert" on the labelled set (targets asserted) and on real text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.offline.evaluation import (
    CAMEO,
    HOLDOUT,
    LABELLED,
    actor_target_share,
    cameo_outcomes,
    labelled_outcomes,
    score,
)

KINDS = {
    "negation",
    "denial",
    "hypothetical",
    "historical",
    "metaphor-sport",
    "metaphor-business",
    "metaphor-entertainment",
    "labour-strike",
    "chess",
    "peaceful-nuclear",
    "peaceful-drone",
    "peaceful-rocket",
}


def test_labelled_set_covers_every_trap_and_is_big_enough() -> None:
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 80
    assert {r["kind"] for r in rows} >= KINDS
    assert {r["expect"] for r in rows} == {"none", "medium", "high", "critical"}


@pytest.mark.parametrize("path", [LABELLED, HOLDOUT], ids=["articles", "holdout"])
def test_precision_recall_and_severity_on_the_labelled_set(path: Path) -> None:
    m = score(labelled_outcomes(path))
    print(f"\n{path.name}: {m.line()}")
    for e in m.errors:
        print(f"  expected {e.expected}, got {e.got}: {e.name}")
    assert m.precision >= 0.95
    assert m.recall >= 0.9
    assert m.severity_share >= 0.85


def test_actor_and_target_on_the_labelled_set() -> None:
    right, total, misses = actor_target_share()
    print(f"\nactor → target: {right}/{total}; missed: {misses}")
    assert total >= 30
    assert right / total >= 0.8


@pytest.mark.skipif(
    not (CAMEO / "train.tsv").exists(),
    reason=f"ConfliBERT CAMEO corpus not present at {CAMEO} (shared corpora are not in the repo)",
)
def test_cameo_material_conflict_vs_cooperation() -> None:
    """A check on real text nobody here wrote; the bound is loose on purpose (recall is reported)."""
    m = score(cameo_outcomes(CAMEO / "train.tsv"))
    print(f"\nCAMEO label 4 vs 1-2: {m.line()}")
    assert m.precision >= 0.85
    assert m.recall >= 0.3
