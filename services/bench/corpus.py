"""Deterministic synthetic news articles (2–8 KB) drawn from `data/corpus.yaml`, and files given by the user.

Same seed and count, same articles: runs are comparable. Each article's URL carries the run tag, so its id
(derived from the URL) is new for every run and the bench can tell its own records apart.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).parent / "data" / "corpus.yaml"
MIN_BYTES = 2048
MAX_BYTES = 8192
ESCALATION_SHARE = 0.35


@dataclass(frozen=True)
class Vocabulary:
    slots: dict[str, tuple[str, ...]]
    titles_neutral: tuple[str, ...]
    titles_escalation: tuple[str, ...]
    neutral: tuple[str, ...]
    escalation: tuple[str, ...]


@lru_cache(maxsize=1)
def load_vocabulary(path: Path = DATA) -> Vocabulary:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    slots = {
        "place": tuple(doc["places"]),
        "place2": tuple(doc["places"]),
        "demonym": tuple(doc["demonyms"]),
        "person": tuple(doc["people"]),
        "org": tuple(doc["orgs"]),
        "city": tuple(doc["cities"]),
        "weekday": tuple(doc["weekdays"]),
        "month": tuple(doc["months"]),
        "topic": tuple(doc["topics"]),
    }
    return Vocabulary(
        slots=slots,
        titles_neutral=tuple(doc["titles"]["neutral"]),
        titles_escalation=tuple(doc["titles"]["escalation"]),
        neutral=tuple(doc["neutral"]),
        escalation=tuple(doc["escalation"]),
    )


def _fill(template: str, rng: random.Random, vocab: Vocabulary) -> str:
    values = {k: rng.choice(v) for k, v in vocab.slots.items()}
    values["number"] = str(rng.randint(2, 90))
    text = template.format(**values)
    return text[0].upper() + text[1:]


def article(index: int, seed: int = 0, tag: str = "bench") -> dict[str, Any]:
    """One article as the ingest API takes it: title, body, url, source, published_at."""
    vocab = load_vocabulary()
    rng = random.Random(f"{seed}:{index}")
    escalating = rng.random() < ESCALATION_SHARE
    title = _fill(
        rng.choice(vocab.titles_escalation if escalating else vocab.titles_neutral), rng, vocab
    )
    target = rng.randint(MIN_BYTES, MAX_BYTES)
    paragraphs: list[str] = []
    size = len(title)
    while size < target:
        sentences = []
        for _ in range(rng.randint(3, 6)):
            pool = vocab.escalation if escalating and rng.random() < 0.3 else vocab.neutral
            sentences.append(_fill(rng.choice(pool), rng, vocab))
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        size += len(paragraph) + 1
    body = "\n".join(paragraphs)
    if len(body.encode()) > MAX_BYTES:
        body = body.encode()[:MAX_BYTES].decode("utf-8", "ignore").rsplit(" ", 1)[0] + "."
    return {
        "title": title,
        "body": body,
        "url": f"https://bench.newswire.invalid/{tag}/{seed}/{index}",
        "source": "bench",
        "published_at": f"2024-11-{1 + index % 28:02d}T{index % 24:02d}:00:00Z",
    }


def generated(count: int, seed: int = 0, tag: str = "bench") -> Iterator[dict[str, Any]]:
    for i in range(count):
        yield article(i, seed, tag)


def from_files(paths: list[Path], count: int, tag: str = "bench") -> Iterator[dict[str, Any]]:
    """Articles read from files (any replay format), cycled up to `count`, each with a run-unique URL."""
    from services.ingest.parse import read_paths

    base = [
        item.article.model_dump(include={"title", "body"})
        for item in read_paths(paths)
        if item.article is not None
    ]
    if not base:
        raise ValueError(f"no readable article in {', '.join(map(str, paths))}")
    for i in range(count):
        yield {
            **base[i % len(base)],
            "url": f"https://bench.newswire.invalid/{tag}/file/{i}",
            "source": "bench",
        }
