"""The native-language detector reads sentences of bounded length, like the English matchers.

The adversarial tier found one 300 KB French sentence with 214 triggers costing tagging 2-3 s of
CPU: the lexicon's traps re-split and re-scan the whole sentence for every hit.
"""

from __future__ import annotations

import time

from services.text.i18n import _article, detect
from services.text.phrases import MAX_SENTENCE


def _one_long_sentence(n: int) -> str:
    return " ".join(["des frappes de missiles ont touché la ville, selon les autorités"] * n) + "."


def test_no_sentence_is_longer_than_the_matchers_read() -> None:
    art = _article(_one_long_sentence(400), "fr", 2026)
    assert art.sents
    assert max(b - a for a, b in art.sents) <= MAX_SENTENCE


def test_a_huge_sentence_is_detected_in_bounded_time() -> None:
    text = _one_long_sentence(4000)  # ~260 KB, one sentence
    t0 = time.process_time()
    hits = detect(text, "fr", 2026)
    assert time.process_time() - t0 < 2.0
    assert hits  # still read: the strikes are found


def test_ordinary_sentences_are_unchanged() -> None:
    text = "Des frappes de missiles ont touché Kharkiv. Trois civils ont été tués."
    art = _article(text, "fr", 2026)
    assert text[art.sents[0][0] : art.sents[0][1]].startswith("Des frappes")
    assert len(art.sents) == 2
