"""Training of the article-genre model: `newswire model train-genre` (MODEL_CARD.md).

Multinomial logistic regression (scikit-learn, a dev dependency imported only here) over the
headline and lead of an article, with the run time's features (`services.text.classifier.ngrams`),
exported as plain weights for `services.text.genre_model`. Sources: AG News items of the *tune*
half only (world and sci/tech as news, sports, business), Reuters-21578 stories of the files the
per-article evaluation does not read (reut2-000 to -007, business), and articles written for this
project for the classes the corpora lack (`data/seed_genres.tsv`). BBC News has no topic labels in
the copy here, so it is not trained on. The AG report half is only scored.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import click

from services.offline.articles import REUTERS_TRAIN, ag_items, reuters_items
from services.offline.quality import half
from services.offline.train import DEFAULT_CORPORA, build_vocab, vectorise
from services.text.genre_model import DEFAULT_GENRE_PATH, GenreModel

SEED_GENRES = Path(__file__).parent / "data" / "seed_genres.tsv"
AG_GENRE = {
    "ag-world": "news",
    "ag-sci/tech": "news",
    "ag-sports": "sport",
    "ag-business": "business",
}
LEAD_CHARS = 400  # the run time reads the headline and the lead sentence
MAX_REUTERS = 3000
MAX_TERMS = 12_000
C = 2.0

Example = tuple[str, str, str]  # (text, genre, source)


def head_and_lead(title: str, body: str) -> str:
    """What the run time sees: the headline and the start of the body."""
    return f"{title}. {body[:LEAD_CHARS]}"


def seed_genres(path: Path = SEED_GENRES) -> list[Example]:
    """genre TAB text rows written for this project."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        genre, sep, text = line.partition("\t")
        if not sep or not text.strip():
            raise ValueError(f"{path}:{n}: expected 'genre TAB text'")
        out.append((text, genre, "seed"))
    return out


def examples(corpora: Path, part: str) -> list[Example]:
    """AG items of `part`; with `tune`, also the Reuters training files and the seed articles."""
    out: list[Example] = [
        (head_and_lead(i.raw.title, i.raw.body), AG_GENRE[i.source], i.source)
        for i in ag_items(corpora)
        if i.part == part
    ]
    if part == "tune":
        reuters = sorted(reuters_items(corpora, REUTERS_TRAIN), key=lambda i: half(i.id + "g"))
        out += [(head_and_lead(i.raw.title, i.raw.body), "business", "reuters") for i in reuters][
            :MAX_REUTERS
        ]
        out += seed_genres()
    return out


def weights_of(rows: Sequence[Example]) -> list[float]:
    """Each (source, genre) weighs the square root of its size in all, so 50 seed articles
    count; scaled to a mean of 1, so that C means what it says."""
    sizes = Counter((s, g) for _, g, s in rows)
    raw = [math.sqrt(sizes[(s, g)]) / sizes[(s, g)] for _, g, s in rows]
    scale = len(raw) / sum(raw)
    return [w * scale for w in raw]


def fit(rows: Sequence[Example], c: float = C, max_terms: int = MAX_TERMS) -> GenreModel:
    from sklearn.linear_model import LogisticRegression

    texts = [t for t, _, _ in rows]
    vocab = build_vocab(texts)
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit(vectorise(texts, vocab), [g for _, g, _ in rows], sample_weight=weights_of(rows))
    classes = [str(c) for c in model.classes_]
    coef = model.coef_
    strength = {
        g: max(abs(float(coef[k][i])) for k in range(len(classes))) for g, i in vocab.items()
    }
    kept = sorted(vocab, key=lambda g: -strength[g])[:max_terms]
    weights: dict[str, dict[str, float]] = {}
    for g in sorted(kept):
        ws = {cl: round(float(coef[k][vocab[g]]), 3) for k, cl in enumerate(classes)}
        ws = {cl: w for cl, w in ws.items() if w != 0.0}
        if ws:
            weights[g] = ws
    biases = {cl: round(float(model.intercept_[k]), 4) for k, cl in enumerate(classes)}
    return GenreModel(biases, weights, {"C": c, "vocabulary": len(vocab), "kept_terms": len(kept)})


def score(model: GenreModel, rows: Iterable[Example], threshold: float) -> dict[str, Any]:
    """Per source: how the model calls its items at `threshold` (below it: no call, news)."""
    calls: dict[str, Counter[str]] = {}
    for text, _, source in rows:
        genre, p = model.best(text)
        calls.setdefault(source, Counter())[genre if p >= threshold else "(none)"] += 1
    return {s: dict(sorted(c.items())) for s, c in sorted(calls.items())}


@click.command("train-genre")
@click.option(
    "--corpora", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_CORPORA
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_GENRE_PATH)
@click.option("--threshold", default=0.8, show_default=True, help="Confidence the figures use.")
def genre_train(corpora: Path, out: Path, threshold: float) -> None:
    """Train the article-genre model and print how it calls the AG halves."""
    tune = examples(corpora, "tune")
    model = fit(tune)
    counts = Counter(f"{s}:{g}" for _, g, s in tune)
    figures = {
        "train_counts": dict(sorted(counts.items())),
        f"tune@{threshold}": score(model, tune, threshold),
        f"report@{threshold}": score(model, examples(corpora, "report"), threshold),
    }
    GenreModel(model.biases, model.weights, {**model.metadata, **figures}).save(out)
    print(json.dumps({**figures, "size_bytes": out.stat().st_size}, indent=1))


if __name__ == "__main__":
    genre_train()
