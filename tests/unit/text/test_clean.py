"""Cleaning and sentence splitting: the offsets every other annotation relies on."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from services.text.clean import clean
from services.text.sentences import split_spans


def test_html_is_stripped_and_entities_decoded() -> None:
    raw = "<p>Strikes on <b>Kharkiv</b> &amp; Sumy.</p><script>alert('x')</script><p>Second&nbsp;one.</p>"
    assert clean(raw) == "Strikes on Kharkiv & Sumy.\nSecond one."


def test_plain_text_keeps_angle_brackets_and_is_nfc() -> None:
    assert clean("x < y and a > b") == "x < y and a > b"
    assert clean("Cafe\u0301  in\tKyiv \u200b") == "Café in Kyiv"


def test_paragraphs_are_kept_as_single_newlines() -> None:
    assert clean("One.\r\n\r\n  Two.\n\n\nThree.") == "One.\nTwo.\nThree."


def test_sentences_respect_abbreviations_and_initials() -> None:
    text = "U.S. President Joe Biden spoke. Mr. Smith met J. Doe on Jan. 5. Then they left!"
    got = [text[a:b] for a, b in split_spans(text)]
    assert got == [
        "U.S. President Joe Biden spoke.",
        "Mr. Smith met J. Doe on Jan. 5.",
        "Then they left!",
    ]


def test_line_breaks_end_sentences() -> None:
    text = "Title without a stop\n\nBody sentence one. Body two"
    assert [text[a:b] for a, b in split_spans(text)] == [
        "Title without a stop",
        "Body sentence one.",
        "Body two",
    ]


@given(st.text(alphabet=st.sampled_from(list("ab AB.!?\n<>&;é\u0301\t")), max_size=200))
def test_clean_is_idempotent_and_nfc(raw: str) -> None:
    once = clean(raw)
    assert clean(once) == once or "<" in once or "&" in once
    assert unicodedata.is_normalized("NFC", once)
    assert "  " not in once and "\t" not in once


@given(st.text(alphabet=st.sampled_from(list("ab AB.!?\n\"'")), max_size=300))
def test_sentence_spans_are_ordered_disjoint_and_trimmed(text: str) -> None:
    spans = split_spans(text)
    last = 0
    for a, b in spans:
        assert last <= a < b <= len(text)
        assert text[a:b] == text[a:b].strip() or text[a:b].strip() == ""
        assert "\n" not in text[a:b]
        last = b


def test_markup_the_stdlib_parser_rejects_is_kept_as_text() -> None:
    """html.parser asserts on '<![0' (found by the any-text property test): no crash, text kept."""
    assert clean("<p>Kyiv</p> <![0 &amp; more") == "Kyiv\n<![0 & more"


def _regex_whitespace(text: str) -> str:
    """clean()'s whitespace rules as they were written first, with two regexes."""
    import re

    text = re.sub(r"[^\S\n ][^\S\n]*| [^\S\n]+", " ", text)
    return re.sub(r" *\n\s*", "\n", text).strip()


@given(st.text(alphabet=" \n\t\r\x0b\x0c\x1c\x85\xa0\u2028\u3000ab.<>&;", max_size=60))
def test_whitespace_is_normalised_as_the_regexes_did(raw: str) -> None:
    from services.text.clean import strip_html

    text = strip_html(raw)
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as clean() does before
    want = _regex_whitespace(unicodedata.normalize("NFC", text))
    assert clean(raw) == want
