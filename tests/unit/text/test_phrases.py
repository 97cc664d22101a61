"""Sentences with offsets, the phrase language and the SimHash fingerprint."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.text.phrases import compile_phrases, find_phrases, phrase_regex, sentence_matches
from services.text.sentences import Sentences, sentences_of, split_sentences
from services.text.similarity import fingerprint_of, hamming, simhash


@given(st.text(alphabet=st.sampled_from("ab .!?\nU.S"), max_size=200))
def test_sentences_are_ordered_exact_slices(text: str) -> None:
    sents = split_sentences(text)
    for s in sents:
        assert text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
    assert all(a.end <= b.start for a, b in itertools.pairwise(sents))


def test_sentences_keep_abbreviations_whole() -> None:
    text = "U.S. President Joe Biden spoke. Mr. Smith left!\nA new line"
    assert [s.text for s in split_sentences(text)] == [
        "U.S. President Joe Biden spoke.",
        "Mr. Smith left!",
        "A new line",
    ]


def test_phrase_wildcards_and_gaps() -> None:
    text = "Ukrainian forces launched ATACMS missiles and missile strikes followed."
    assert [
        m.group(0) for m in find_phrases(["launch* ... missile*", "missile strike*"], text)
    ] == [
        "launched ATACMS missiles",
        "missile strikes",
    ]


def test_phrase_is_case_insensitive_on_word_boundaries() -> None:
    assert find_phrases(["drone"], "DRONE footage") and not find_phrases(["drone"], "drones")
    assert find_phrases(["drone*"], "drones")


def test_gap_never_crosses_a_sentence_end() -> None:
    assert not find_phrases(["fired ... missiles"], "They fired. Missiles were seen.")
    assert find_phrases(["fired ... missiles"], "They fired three missiles.")
    assert find_phrases(["fired ... missiles"], "They fired three\nmissiles.")  # wrapped line


def test_hard_wrapped_lines_are_one_sentence_but_paragraphs_split() -> None:
    text = "The rocket lifted off and\nplaced a satellite in orbit\n    Next paragraph\n\nThird"
    assert [s.text for s in split_sentences(text)] == [
        "The rocket lifted off and\nplaced a satellite in orbit",
        "Next paragraph",
        "Third",
    ]


def test_title_is_its_own_sentence() -> None:
    class Art:
        title, body = "China masses troops", "Beijing amassed ships."

    text = f"{Art.title}\n{Art.body}"
    assert [s.text for s in sentences_of(Art(), text)] == [
        "China masses troops",
        "Beijing amassed ships.",
    ]
    # "troops ... amassed" across the two would hide "amassed ships" if the whole text were searched
    found = sentence_matches(
        compile_phrases(("troops ... amassed", "amassed ships")), text, sentences_of(Art(), text)
    )
    assert [m.group(0) for m in found] == ["amassed ships"]


@pytest.mark.parametrize("bad", ["", "...", "... missile", "missile ..."])
def test_bad_phrases_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        phrase_regex(bad)


def test_empty_phrase_set_compiles_to_none() -> None:
    assert compile_phrases(()) is None


WIRE = (
    "Russia fired more than forty cruise missiles at Ukraine on Sunday, hitting power stations "
    "in the west of the country, officials said. Air defences intercepted most of them, and "
    "repairs began in the afternoon as engineers restored electricity to hospitals."
)


def test_simhash_near_duplicates_are_close_and_others_far() -> None:
    edited = WIRE.replace("on Sunday", "early on Sunday").replace(
        "officials said", "said officials"
    )
    other = "The central bank held interest rates steady, citing easing inflation and weak growth."
    assert hamming(simhash(WIRE), simhash(edited)) <= 12
    assert hamming(simhash(WIRE), simhash(other)) > 12


def test_fingerprint_prefers_enrichments_field() -> None:
    class WithPrint:
        title, body, fingerprint = "t", "b", "00ff"

    class Without:
        title, body = "t", WIRE

    assert fingerprint_of(WithPrint()) == "00ff"
    assert fingerprint_of(Without()) == f"{simhash('t' + chr(10) + WIRE):016x}"


_PHRASES = ("missile* ... strike", "air strike", "shell*", "US troops", "us")


@given(
    st.lists(
        st.sampled_from(
            ["missiles", "Missile", "strike", "AIR", "air", "shelling", "uſ", "US", "ı"]
        )
        | st.sampled_from([" ", ". ", "\n", "-", ", ", "troops", "İ", "ſ"]),
        max_size=40,
    )
)
def test_sentence_matches_equals_scanning_every_sentence(parts: list[str]) -> None:
    """The anchor pre-selection of sentences changes nothing: same matches as a scan of each."""
    text = "".join(parts)
    pattern = compile_phrases(_PHRASES)
    assert pattern is not None
    sents = split_sentences(text)
    plain = [m.span() for s in sents for m in pattern.finditer(text, s.start, s.end)]
    assert [m.span() for m in sentence_matches(pattern, text, sents)] == plain
    assert [m.span() for m in sentence_matches(pattern, text, Sentences(sents))] == plain


def _simhash_reference(text: str) -> int:
    """The first SimHash, written plainly: the faster one must give the same bits."""
    import hashlib
    import re

    words = [m.group(0).casefold() for m in re.finditer(r"\w+(?:[-'’]\w+)*", text)]
    grams = {" ".join(words[i : i + 2]) for i in range(max(1, len(words) - 1))}
    hashes = [
        int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "big") for g in grams
    ]
    bits = [sum(h >> (63 - i) & 1 for h in hashes) * 2 > len(hashes) for i in range(64)]
    return sum(1 << (63 - i) for i, b in enumerate(bits) if b)


@given(st.text(alphabet=st.sampled_from("ab cD-'’.\nÉß"), max_size=80))
def test_simhash_matches_the_plain_definition(text: str) -> None:
    assert simhash(text) == _simhash_reference(text)
