"""HTML stripping in linear time (issue 27): constructs that never close cost one pass, and the
text of any other input is what html.parser alone gives."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.text.clean import _Stripper, strip_html


@pytest.mark.parametrize("shape", ["<a ", "<a b='", "<!--", "<![CDATA["])
def test_unclosed_constructs_cost_one_pass(shape: str) -> None:
    raw = "Troops " + shape * 20_000  # 60-180 KB: `"<a " * 20000` cost html.parser 36 s
    t0 = time.process_time()
    text = strip_html(raw)
    assert time.process_time() - t0 < 0.5
    assert text.startswith("Troops ")


def _parsed(raw: str) -> str:
    p = _Stripper()
    p.feed(raw)
    p.close()
    return "".join(p.parts)


_PIECES = [
    "<p>",
    "</p>",
    "<b>",
    "</b>",
    "<script>",
    "</script>",
    "<br/>",
    "<!-- c -->",
    "&amp;",
    "&nbsp;",
    "&#39;",
    "x",
    " ",
    "<",
    ">",
    "<a href='u'>",
    "</a>",
    "<!DOCTYPE html>",
    "\n",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30))
def test_the_text_is_what_html_parser_gives(pieces: list[str]) -> None:
    raw = "".join(pieces)
    tail = raw[raw.rfind(">") + 1 :]
    try:
        expected = _parsed(raw)
    except AssertionError:  # the stdlib parser asserts on some markup: strip_html falls back
        return
    if "<" not in tail:  # (after the last ">" the old parser kept markup-like text as it was)
        assert strip_html(raw) == (expected if ("<" in raw or "&" in raw) else raw)
