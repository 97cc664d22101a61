"""Learned second detector: a word 1–2-gram logistic regression over one sentence.

The rules keep precision; this model adds recall on wording the lexicon lacks. Run time is pure
Python over a gzipped JSON of weights (no numpy, no scikit-learn, no network), so it loads in
every service and costs tens of microseconds a sentence. The features are the sentence's distinct
n-grams, each worth 1/sqrt(number of distinct n-grams): that norm needs no vocabulary, so terms
pruned from the shipped file do not change how the others are scaled. The training side is
`services.offline.train`, which uses `ngrams` from here so both sides tokenise alike.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

MODEL_FORMAT = "newswire-sentence-lr/1"
DEFAULT_MODEL_PATH = Path(__file__).parent / "data" / "models" / "sentence_classifier.json.gz"

# Letters or digits, with an inner apostrophe ("didn't", "nation's"); hyphens and other marks
# split, so "air-strike" and "air strike" give the same bigram.
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "`": "'"})
NUMBER = "<num>"


def tokens(text: str) -> list[str]:
    """Lower-cased words; a token that starts with a digit becomes `<num>` ("12 killed")."""
    words = _WORD.findall(text.translate(_APOSTROPHES).lower())
    return [NUMBER if w[0].isdigit() else w for w in words]


def ngrams(text: str) -> set[str]:
    """The distinct word 1- and 2-grams of a text (bigrams joined by one space)."""
    words = tokens(text)
    grams = set(words)
    grams.update(f"{a} {b}" for a, b in pairwise(words))
    return grams


@dataclass(frozen=True, slots=True)
class Prediction:
    """The probability that a sentence reports a violent or military event, and why.

    `terms` are the n-grams with the largest positive contributions to the logit (weight times
    feature value), largest first: the explanation an alert carries. `event_type` is the
    type head's best guess when the model has one and the probability is at least 0.5.
    """

    probability: float
    terms: tuple[tuple[str, float], ...]
    event_type: str | None = None


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass(frozen=True, slots=True)
class TypeHead:
    """A one-vs-rest linear head over the same features: which event type a positive is."""

    labels: tuple[str, ...]
    bias: tuple[float, ...]
    weights: Mapping[str, tuple[float, ...]]

    def guess(self, grams: Iterable[str], scale: float) -> str | None:
        """The label with the highest logit, or None without labels."""
        if not self.labels:
            return None
        logits = list(self.bias)
        for g in grams:
            row = self.weights.get(g)
            if row is not None:
                for i, w in enumerate(row):
                    logits[i] += w * scale
        best = max(range(len(logits)), key=logits.__getitem__)
        return self.labels[best]


@dataclass(frozen=True, slots=True)
class SentenceModel:
    """Weights of the binary classifier (and an optional type head), loaded once per process."""

    bias: float
    weights: Mapping[str, float]
    metadata: Mapping[str, Any]
    types: TypeHead | None = None

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
        types = None
        if raw.get("types"):
            t = raw["types"]
            types = TypeHead(
                labels=tuple(t["labels"]),
                bias=tuple(float(b) for b in t["bias"]),
                weights={k: tuple(float(x) for x in v) for k, v in t["weights"].items()},
            )
        return cls(
            bias=float(raw["bias"]),
            weights={k: float(v) for k, v in raw["weights"].items()},
            metadata=raw.get("metadata", {}),
            types=types,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `from_dict` reads."""
        raw: dict[str, Any] = {
            "format": MODEL_FORMAT,
            "bias": self.bias,
            "weights": dict(self.weights),
            "metadata": dict(self.metadata),
        }
        if self.types is not None:
            raw["types"] = {
                "labels": list(self.types.labels),
                "bias": list(self.types.bias),
                "weights": {k: list(v) for k, v in self.types.weights.items()},
            }
        return raw

    def save(self, path: Path) -> None:
        """Write gzipped compact JSON; mtime 0 so the same model gives the same bytes."""
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True).encode()
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
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
        """Probability, the top-k positive terms and (with a type head) the event type."""
        grams = ngrams(text)
        scale = 1.0 / math.sqrt(len(grams)) if grams else 0.0
        contributions = [(g, self.weights[g] * scale) for g in grams if g in self.weights]
        p = _sigmoid(self.bias + sum(c for _, c in contributions))
        positive = sorted((c for c in contributions if c[1] > 0), key=lambda c: (-c[1], c[0]))
        terms = tuple((g, round(c, 4)) for g, c in positive[:k])
        event_type = self.types.guess(grams, scale) if self.types and p >= 0.5 else None
        return Prediction(probability=p, terms=terms, event_type=event_type)


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
