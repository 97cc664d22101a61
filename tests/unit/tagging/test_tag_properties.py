"""Properties of `tag()` on any text: it never fails and every offset points at its term."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.offline.analyze import tagged_from

WORDS = st.sampled_from(
    [
        "Russia",
        "Ukraine",
        "Russian",
        "missiles",
        "struck",
        "fired",
        "no",
        "not",
        "if",
        "1962",
        "film",
        "bombed",
        "nuclear",
        "power",
        "plant",
        "drone",
        "delivery",
        "killed",
        "12",
        "civilians",
        "shelling",
        "troops",
        ".",
        ",",
        "!",
        "?",
        "\n",
        "May",
        "could",
        "denied",
    ]
)


@settings(max_examples=40, deadline=None)
@given(st.lists(WORDS | st.text(max_size=8), min_size=1, max_size=60))
def test_tag_is_total_and_offsets_are_exact(words: list[str]) -> None:
    body = " ".join(words).strip() or "x"
    t = tagged_from("T", body, published="2026-11-20T08:00:00Z")
    text = t.article.text
    assert 0.0 <= t.escalation_score <= 10.0
    for topic in t.topics:
        for ev in topic.evidence:
            assert text[ev.start : ev.end] == ev.term
    for e in t.events:
        assert text[e.trigger.start : e.trigger.end] == e.trigger.term
        assert e.trigger.term in e.sentence
    for s in t.suppressed:
        assert text[s.start : s.end] == s.term
