"""The genre training data: the seed file parses, and an unparsable row names its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.offline.train_genre import seed_genres, weights_of
from services.text.frame import GENRES


def test_the_seed_articles_are_in_known_genres() -> None:
    rows = seed_genres()
    assert len(rows) >= 40 and {g for _, g, _ in rows} <= GENRES


def test_a_bad_row_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "s.tsv"
    path.write_text("# c\nsport\tA goal.\nno tab here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"s\.tsv:3:"):
        seed_genres(path)


def test_small_groups_weigh_more_per_row_and_the_mean_is_one() -> None:
    rows = [("a", "news", "ag")] * 100 + [("b", "review", "seed")] * 4
    w = weights_of(rows)
    assert w[-1] > w[0] and abs(sum(w) / len(w) - 1.0) < 1e-9
