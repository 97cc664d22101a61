"""`~lemma` words stand for every inflected form, `...N` for a gap of at most N words."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.text.phrases import GAP_WORDS, expand, find_phrases, inflections, phrase_regex


def _found(phrase: str, text: str) -> list[str]:
    return [m.group(0) for m in find_phrases([phrase], text)]


def test_a_lemma_matches_every_form_of_the_verb_and_the_noun() -> None:
    assert {"strike", "strikes", "struck", "striking"} <= set(inflections("strike"))
    for text in ("Missiles struck the port.", "A missile strikes the port.", "missiles striking"):
        assert _found("~missile ... ~strike", text), text
    assert not _found("~missile ... ~strike", "The missile programme was shelved.")


def test_passive_voice_is_the_reversed_phrase_with_any_form() -> None:
    assert _found("~missile ... ~fire", "Three missiles were fired at the base overnight.")
    assert _found("~hit by ... ~drone", "A refinery was hit by drones on Sunday.")


def test_expansion_is_the_product_of_the_forms_and_keeps_stars() -> None:
    out = expand("~fire ... ~rocket*")
    assert "fired ... rockets*" in out and "firing ... rocket*" in out
    assert len(out) == len(inflections("fire")) * len(inflections("rocket"))
    assert expand("plain words") == ["plain words"]


def test_the_default_gap_fits_a_real_sentence_and_a_numbered_gap_is_shorter() -> None:
    text = "Russia fired three more Iranian-made ballistic missiles at Kyiv."
    assert _found("~fire ... ~missile", text)
    assert not _found("~fire ...2 ~missile", text)
    assert _found("~fire ...5 ~missile", text)
    long_gap = "fired " + " ".join(["word"] * (GAP_WORDS + 1)) + " missiles"
    assert not _found("~fire ... ~missile", long_gap)


def test_a_gap_never_crosses_a_colon_or_semicolon() -> None:
    assert not _found("~fire ... ~missile", "They fired: missiles came later.")
    assert not _found("~fire ... ~missile", "They fired; missiles came later.")


@given(st.text(alphabet=st.sampled_from("~abc .*"), max_size=30))
def test_any_phrase_either_compiles_or_is_refused_with_a_value_error(phrase: str) -> None:
    try:
        phrase_regex(phrase)
    except ValueError:
        return
