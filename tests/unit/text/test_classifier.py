"""The shipped sentence classifier: the right side of 0.7 on plain cases, explanations, odd input.

Every sentence here was written for this test (none is from a corpus, none from the seed file).
"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.text.classifier import (
    DEFAULT_MODEL_PATH,
    NUMBER,
    Prediction,
    SentenceModel,
    default_model,
    ngrams,
    predict,
    score,
    tokens,
)

VIOLENT = [
    "Rebel fighters attacked an army outpost at dawn, killing eleven soldiers.",
    "A suicide bomber blew himself up at a checkpoint, killing seven policemen.",
    "Militants kidnapped four aid workers and a driver on the highway.",
    "Mortar shells fell on the market, and at least thirty civilians were killed.",
    "Security forces shot dead three suspected insurgents in a gun battle.",
    "An explosion ripped through a bus carrying troops, wounding dozens.",
]
PEACEFUL = [
    "The midfielder scored twice as the visitors won the derby three-one.",
    "The tennis champion defended her title after a gruelling final set.",
    "Quarterly profits at the supermarket chain rose by eight percent.",
    "The central bank held interest rates steady, citing slowing inflation.",
    "The software firm released an update that makes the laptop battery last longer.",
    "Shareholders approved the merger of the two airlines at the annual meeting.",
]


@pytest.fixture(scope="module")
def model() -> SentenceModel:
    return SentenceModel.load()


def test_shipped_model_is_small_and_self_describing() -> None:
    assert DEFAULT_MODEL_PATH.stat().st_size <= 5 * 1024 * 1024
    with gzip.open(DEFAULT_MODEL_PATH, "rt") as f:
        raw = json.load(f)
    assert raw["format"] == "newswire-sentence-lr/2"
    assert raw["metadata"]["cv"]["C"] > 0  # the figures travel with the weights


@pytest.mark.parametrize("sentence", VIOLENT)
def test_violent_sentences_score_at_least_0_7(model: SentenceModel, sentence: str) -> None:
    assert model.score(sentence) >= 0.7


@pytest.mark.parametrize("sentence", PEACEFUL)
def test_sport_and_business_sentences_score_below_0_7(model: SentenceModel, sentence: str) -> None:
    assert model.score(sentence) < 0.7


def test_explanation_names_the_terms_that_drove_it(model: SentenceModel) -> None:
    p = model.predict("Gunmen opened fire on a police patrol and killed two officers.", k=3)
    assert p.probability >= 0.7
    assert 1 <= len(p.terms) <= 3
    assert all(weight > 0 for _, weight in p.terms)
    assert [w for _, w in p.terms] == sorted((w for _, w in p.terms), reverse=True)
    words = " ".join(term for term, _ in p.terms)
    assert any(word in words for word in ("killed", "gunmen", "opened fire", "fire", "police"))


def test_predict_and_score_agree(model: SentenceModel) -> None:
    text = VIOLENT[0]
    assert model.predict(text).probability == pytest.approx(model.score(text))
    assert score(text) == pytest.approx(model.score(text))
    assert predict(text).terms == model.predict(text).terms


@pytest.mark.parametrize(
    "text", ["", "   ", "😀🔥💣", "!!!", "\x00\n\t", "a" * 10_000, "killed " * 2_000]
)
def test_odd_input_gives_a_probability(model: SentenceModel, text: str) -> None:
    p = model.predict(text)
    assert isinstance(p, Prediction)
    assert 0.0 <= p.probability <= 1.0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_a_probability_and_positive_terms(text: str) -> None:
    p = default_model().predict(text)
    assert 0.0 <= p.probability <= 1.0
    assert all(w > 0 for _, w in p.terms)


def test_tokens_fold_case_hyphens_apostrophes_and_numbers() -> None:
    assert tokens("Air-strike KILLED 12 in the city’s north") == [
        "air",
        "strike",
        "killed",
        NUMBER,
        "in",
        "the",
        "city's",
        "north",
    ]
    assert {"air strike", "air", "strike"} <= ngrams("an air-strike")


def test_round_trip_and_refusal_of_another_format(model: SentenceModel, tmp_path: Path) -> None:
    path = tmp_path / "m.json.gz"
    model.save(path)
    again = SentenceModel.load(path)
    assert again.score(VIOLENT[1]) == pytest.approx(model.score(VIOLENT[1]))
    bad = tmp_path / "bad.json.gz"
    with gzip.open(bad, "wt") as f:
        json.dump({"format": "something-else"}, f)
    with pytest.raises(ValueError, match="not a"):
        SentenceModel.load(bad)


def test_cost_per_sentence_is_well_under_a_millisecond(model: SentenceModel) -> None:
    sentences = (VIOLENT + PEACEFUL) * 50
    started = time.perf_counter()
    for s in sentences:
        model.score(s)
    per_sentence = (time.perf_counter() - started) / len(sentences)
    assert per_sentence < 1e-3  # measured ~0.03 ms; loose so a busy machine does not fail it
