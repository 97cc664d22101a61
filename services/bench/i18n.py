"""CPU per 3,000-character article of native detection per language, against the English tag().

    uv run python -m services.bench.i18n [-n 200]

Articles are the labelled fixtures of each language (escalations and traps alike) joined to 3,000
characters; English uses tests/fixtures/labelled/articles.jsonl the same way, enriched once, then
timed in tag() alone. Medians of `time.process_time`, caches keyed by the text dropped each time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from services.common.settings import PROJECT_ROOT
from services.offline.i18n_eval import FIXTURES
from services.text.i18n import assess
from services.text.lexicon import LANGUAGES, load

SIZE = 3000


def _article(texts: list[str]) -> str:
    out, i = "", 0
    while len(out) < SIZE:
        out += texts[i % len(texts)] + " "
        i += 1
    return out[:SIZE]


def _median(fn: object, n: int) -> float:
    assert callable(fn)
    times = []
    for _ in range(n):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times) * 1000


def english(n: int) -> float:
    from services.bench.stages import _forget
    from services.enrichment.core import enrich
    from services.ingest.parse import from_mapping
    from services.tagging.core import tag

    rows = (PROJECT_ROOT / "tests/fixtures/labelled/articles.jsonl").read_text(encoding="utf-8")
    texts = [f"{r['title']}. {r['body']}" for r in map(json.loads, rows.splitlines()) if r]
    body = _article(texts)
    enriched = enrich(from_mapping({"title": "Overnight attacks", "body": body}))

    def run() -> None:
        _forget()
        tag(enriched)

    return _median(run, n)


def native(lang: str, n: int) -> float:
    texts: list[str] = []
    for split in ("dev", "test"):
        path = Path(FIXTURES / f"{lang}.{split}.jsonl")
        texts += [json.loads(x)["text"] for x in path.read_text(encoding="utf-8").splitlines()]
    article = _article(texts)
    load(lang)
    return _median(lambda: assess(article, lang, 2026), n)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200)
    args = ap.parse_args()
    en = english(args.n)
    print(f"{'en':<4} {en:7.3f} ms  (tag(), services.tagging.core)")
    for lang in LANGUAGES:
        ms = native(lang, args.n)
        print(f"{lang:<4} {ms:7.3f} ms  ({ms / en:4.2f}x English)")


if __name__ == "__main__":
    main()
