"""The labelled story set (tests/fixtures/stories/): pairwise precision and recall of grouping."""

from __future__ import annotations

from services.offline.story_eval import DEFAULT, evaluate_set, pairwise


def test_pairwise_counts() -> None:
    s = pairwise({"a": "1", "b": "1", "c": "2"}, {"a": "x", "b": "y", "c": "y"})
    assert (s.tp, s.fp, s.fn) == (0, 1, 1) and s.precision == 0.0 and s.recall == 0.0


def test_story_grouping_meets_the_targets_on_the_labelled_set() -> None:
    s = evaluate_set(DEFAULT)
    assert s.precision >= 0.98 and s.recall >= 0.95, (s.false_merges, s.false_splits)
