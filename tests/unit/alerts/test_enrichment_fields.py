"""Tagging and story clustering use enrichment's fields: text, sentences, MinHash, casualties."""

from __future__ import annotations

from schemas import Casualty, EnrichedArticle, Sentence
from services.alerts.core import StoryState, evaluate
from services.alerts.rules import parse_rules
from services.enrichment.core import enrich
from services.ingest.parse import from_mapping
from services.tagging.core import tag
from services.text.similarity import minhash_similarity

NOW = "2026-11-20T08:00:00Z"
RULES = parse_rules(
    "rules:\n  - id: r\n    description: d\n    severity: low\n    min_severity: medium\n", "t.yaml"
)


def future(title: str, body: str, minhash: list[int], **extra: object) -> EnrichedArticle:
    """A real enriched article with the MinHash (and other fields) forced to given values."""
    base = enrich(from_mapping({"title": title, "body": body, "published_at": NOW}))
    return base.model_copy(update={"fingerprint": minhash, **extra})


def test_minhash_similarity() -> None:
    assert minhash_similarity([1, 2, 3, 4], [1, 2, 3, 4]) == 1.0
    assert minhash_similarity([1, 2, 3, 4], [5, 6, 7, 8]) == 0.0
    assert minhash_similarity([1, 2, 3, 4], [1, 2, 5, 6]) == 0.5
    assert minhash_similarity([], [1]) == 0.0


def test_stories_follow_enrichments_minhash() -> None:
    a = tag(future("Shelling", "Artillery shelling hit Kherson overnight.", list(range(64))))
    b = tag(future("Other words", "Homes near the river in Kherson were hit.", list(range(2, 66))))
    c = tag(future("Shelling!", "Artillery shelling hit Kharkiv overnight.", list(range(2, 66))))
    state = StoryState()
    assert len(evaluate(a, RULES, state)) == 1
    assert evaluate(b, RULES, state) == []  # same place, same MinHash: the same story
    assert len(evaluate(c, RULES, state)) == 1  # other place, same MinHash: its own story
    assert len(state.stories) == 2


def test_text_sentences_and_casualties_from_enrichment() -> None:
    art = future(
        "Strike",
        "Russian missiles hit a market. Rescuers are searching the rubble.",
        list(range(64)),
        casualties=[Casualty(kind="killed", count=31, text="31 killed", start=8, end=14)],
        sentences=[
            Sentence(start=0, end=6),
            Sentence(start=8, end=38),
            Sentence(start=39, end=73),
        ],
    )
    t = tag(art)
    [e] = [e for e in t.events if e.type == "missile-strike"]
    assert art.text[e.trigger.start : e.trigger.end] == e.trigger.term == "missiles hit"
    assert e.sentence == "Russian missiles hit a market."
    assert t.casualties == 31
