"""Learned article genre: a multinomial logistic regression over the headline and lead.

The frame's genre cues decide first; this model speaks only where they say nothing, and only
above a confidence threshold (`services.text.frame.article_genre`). Run time is pure Python over
a gzipped JSON of weights, as `services.text.classifier` (whose `ngrams` both sides share); the
training side is `services.offline.train_genre`.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from services.text.classifier import ngrams

GENRE_FORMAT = "newswire-genre-lr/1"
DEFAULT_GENRE_PATH = Path(__file__).parent / "data" / "models" / "genre_classifier.json.gz"


@dataclass(frozen=True, slots=True)
class GenreModel:
    """Per-class biases and n-gram weights; features valued 1/sqrt(distinct n-grams)."""

    biases: Mapping[str, float]
    weights: Mapping[str, Mapping[str, float]]  # n-gram -> class -> weight (sparse)
    metadata: Mapping[str, Any]

    @classmethod
    def load(cls, path: Path | str | None = None) -> GenreModel:
        """Read a model written by `save`; the shipped one without a path."""
        with gzip.open(Path(path) if path is not None else DEFAULT_GENRE_PATH, "rt") as f:
            raw = json.load(f)
        if raw.get("format") != GENRE_FORMAT:
            raise ValueError(f"not a {GENRE_FORMAT} model: format={raw.get('format')!r}")
        return cls(
            biases={k: float(v) for k, v in raw["biases"].items()},
            weights={g: {c: float(w) for c, w in ws.items()} for g, ws in raw["weights"].items()},
            metadata=raw.get("metadata", {}),
        )

    def save(self, path: Path) -> None:
        """Gzipped compact JSON, mtime 0: the same model gives the same bytes."""
        raw = {
            "format": GENRE_FORMAT,
            "biases": dict(self.biases),
            "weights": {g: dict(ws) for g, ws in self.weights.items()},
            "metadata": dict(self.metadata),
        }
        data = json.dumps(raw, separators=(",", ":"), sort_keys=True).encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        with (
            path.open("wb") as out,
            gzip.GzipFile(filename="", fileobj=out, mode="wb", mtime=0) as f,
        ):
            f.write(data)

    def probabilities(self, text: str) -> dict[str, float]:
        """Softmax over the classes."""
        grams = ngrams(text)
        logits = dict(self.biases)
        if grams:
            scale = 1.0 / math.sqrt(len(grams))
            for g in grams:
                for c, w in self.weights.get(g, {}).items():
                    logits[c] += w * scale
        top = max(logits.values())
        exp = {c: math.exp(z - top) for c, z in logits.items()}
        total = sum(exp.values())
        return {c: e / total for c, e in exp.items()}

    def best(self, text: str) -> tuple[str, float]:
        """The most probable class and its probability (ties by name, for stable output)."""
        probs = self.probabilities(text)
        genre = min(probs, key=lambda c: (-probs[c], c))
        return genre, probs[genre]


@cache
def default_genre_model() -> GenreModel | None:
    """The shipped model, read on first use; None when no file is shipped."""
    return GenreModel.load() if DEFAULT_GENRE_PATH.exists() else None
