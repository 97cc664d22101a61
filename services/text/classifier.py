"""Learned second detector: a word 1–2-gram logistic regression over one sentence.

The rules keep precision; this model adds recall on wording the lexicon lacks. Run time is pure
Python over a gzipped JSON of weights (no numpy, no scikit-learn, no network), so it loads in
every service and costs tens of microseconds a sentence. The features are the sentence's distinct
n-grams (and crude stems), each worth 1/sqrt(number of distinct n-grams): that norm needs no vocabulary, so terms
pruned from the shipped file do not change how the others are scaled. The training side is
`services.offline.train`, which uses `ngrams` from here so both sides tokenise alike.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

MODEL_FORMAT = "newswire-sentence-lr/2"
DEFAULT_MODEL_PATH = Path(__file__).parent / "data" / "models" / "sentence_classifier.json.gz"

# Letters or digits, with an inner apostrophe ("didn't", "nation's"); hyphens and other marks
# split, so "air-strike" and "air strike" give the same bigram.
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "`": "'"})
NUMBER = "<num>"
_SUFFIX = re.compile(r"(?:ings|ing|ers|er|ed|es|e|s)$")


def tokens(text: str) -> list[str]:
    """Lower-cased words; a token that starts with a digit becomes `<num>` ("12 killed").

    Single letters are dropped: the lower-cased BBC copy lost its apostrophes ("the firm s
    profits"), and a lone "s" became one of the strongest negative weights, a mark of the source.
    """
    words = _WORD.findall(text.translate(_APOSTROPHES).lower())
    return [NUMBER if w[0].isdigit() else w for w in words if len(w) > 1 or w.isdigit()]


def stem(word: str) -> str | None:
    """A crude stem for words over four letters ("fire", "fired", "firing" -> "fir*"):
    inflections share one feature, which cross-validation showed to help on small sources."""
    if len(word) <= 4 or not word[0].isalpha():
        return None
    return _SUFFIX.sub("", word) + "*"


def ngrams(text: str) -> set[str]:
    """The distinct word 1- and 2-grams of a text (bigrams joined by one space) and the crude
    stems of its longer words (marked with a trailing `*`)."""
    words = tokens(text)
    grams = set(words)
    grams.update(f"{a} {b}" for a, b in pairwise(words))
    grams.update(s for w in words if (s := stem(w)) is not None)
    return grams


@dataclass(frozen=True, slots=True)
class Prediction:
    """The probability that a sentence reports a violent or military event, and why.

    `terms` are the n-grams with the largest positive contributions to the logit (weight times
    feature value), largest first: the explanation an alert carries. The event type is left to
    the rules' vocabulary (the taxonomy's `refine` by weapon words); this model has no type head.
    """

    probability: float
    terms: tuple[tuple[str, float], ...]


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass(frozen=True, slots=True)
class SentenceModel:
    """Weights of the binary classifier, loaded once per process."""

    bias: float
    weights: Mapping[str, float]
    metadata: Mapping[str, Any]

    @classmethod
    def load(cls, path: Path | str | None = None) -> SentenceModel:
        """Read a model written by `save` (gzipped JSON); the shipped one without a path."""
        with gzip.open(Path(path) if path is not None else DEFAULT_MODEL_PATH, "rt") as f:
            raw = json.load(f)
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> SentenceModel:
        """Build from the JSON object; refuses a file of another format rather than misread it."""
        if raw.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a {MODEL_FORMAT} model: format={raw.get('format')!r}")
        return cls(
            bias=float(raw["bias"]),
            weights={k: float(v) for k, v in raw["weights"].items()},
            metadata=raw.get("metadata", {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `from_dict` reads."""
        return {
            "format": MODEL_FORMAT,
            "bias": self.bias,
            "weights": dict(self.weights),
            "metadata": dict(self.metadata),
        }

    def save(self, path: Path) -> None:
        """Write gzipped compact JSON; mtime 0 so the same model gives the same bytes."""
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True).encode()
        with (
            path.open("wb") as raw,
            gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as f,
        ):
            f.write(data)

    def score(self, text: str) -> float:
        """Probability only: the hot path when no explanation is wanted."""
        grams = ngrams(text)
        if not grams:
            return _sigmoid(self.bias)
        w = self.weights
        total = sum(w.get(g, 0.0) for g in grams)
        return _sigmoid(self.bias + total / math.sqrt(len(grams)))

    def predict(self, text: str, k: int = 5) -> Prediction:
        """Probability and the top-k positive terms."""
        grams = ngrams(text)
        scale = 1.0 / math.sqrt(len(grams)) if grams else 0.0
        contributions = [(g, self.weights[g] * scale) for g in grams if g in self.weights]
        p = _sigmoid(self.bias + sum(c for _, c in contributions))
        positive = sorted((c for c in contributions if c[1] > 0), key=lambda c: (-c[1], c[0]))
        terms = tuple((g, round(c, 4)) for g, c in positive[:k])
        return Prediction(probability=p, terms=terms)


@cache
def default_model() -> SentenceModel:
    """The shipped model, read on first use."""
    return SentenceModel.load()


def score(sentence: str) -> float:
    """Probability from the shipped model that the sentence reports a violent/military event."""
    return default_model().score(sentence)


def predict(sentence: str, k: int = 5) -> Prediction:
    """`SentenceModel.predict` with the shipped model."""
    return default_model().predict(sentence, k)
