"""The one splitter and its two rule sets: English (abbreviations, a capital after the stop) and
any script (the native detection's: no capitals needed, initials kept, 。！？ anywhere)."""

from __future__ import annotations

from services.text.sentences import split_spans, split_spans_any_script


def _texts(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[a:b] for a, b in spans]


def test_english_rules_keep_abbreviations_and_need_a_capital() -> None:
    text = "Gen. Smith spoke. then he left. He returned!\nNext line"
    assert _texts(text, split_spans(text)) == [
        "Gen. Smith spoke. then he left.",
        "He returned!",
        "Next line",
    ]


def test_any_script_rules_need_no_capital_and_keep_initials() -> None:
    text = "т. Иванов сказал. ракеты упали.  他说。我们走！\n\n  الجيش قال؟ نعم"
    assert _texts(text, split_spans_any_script(text)) == [
        "т. Иванов сказал.",
        "ракеты упали.",
        "他说。",
        "我们走！",
        "الجيش قال؟",
        "نعم",
    ]


def test_a_single_line_break_ends_an_english_sentence_but_not_one_of_any_script() -> None:
    text = "first part\nsecond part"
    assert len(split_spans(text)) == 2
    assert split_spans_any_script(text) == [(0, len(text))]
