"""The synthetic corpus: deterministic, 2–8 KB, valid articles, some of them alerting."""

from __future__ import annotations

from services.bench.corpus import MAX_BYTES, MIN_BYTES, article, generated
from services.ingest.parse import from_mapping


def test_same_seed_same_articles_and_other_seed_other_articles() -> None:
    assert list(generated(5, seed=1)) == list(generated(5, seed=1))
    assert article(0, seed=1)["body"] != article(0, seed=2)["body"]


def test_sizes_and_validity() -> None:
    arts = list(generated(60, seed=3, tag="t"))
    for a in arts:
        assert MIN_BYTES - 400 <= len(a["body"].encode()) <= MAX_BYTES
        from_mapping(a)  # valid for the ingest API
    assert len({a["url"] for a in arts}) == len(arts)


def test_a_share_of_articles_escalates() -> None:
    words = ("missile", "drone", "killed", "nuclear", "shelling")
    escalating = [a for a in generated(200) if any(w in a["body"] for w in words)]
    assert 30 < len(escalating) < 120
