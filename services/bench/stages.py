"""CPU time per article of each pure stage, from and to JSON bytes as the workers do it.

    uv run python -m services.bench.stages [-n 300] [--seed-files seeds/] [--golden OUT.jsonl]

Per article: enrichment = decode raw + enrich + encode; tagging = decode enriched + tag + encode;
alerts = decode tagged + evaluate + encode every alert. Medians of `time.process_time` over the
articles, one core. `--golden` writes every stage's output with the timestamps removed, so two code
states can be compared byte for byte (behaviour must not change when only speed should).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_TIMES = ("ingested", "enriched", "tagged", "alerted")


def _strip_times(obj: Any) -> Any:
    """The stage timestamps are the only output that differs from run to run."""
    if isinstance(obj, dict):
        return {
            k: _strip_times(v)
            for k, v in obj.items()
            if not (k in _TIMES and isinstance(v, str | None))
        }
    if isinstance(obj, list):
        return [_strip_times(v) for v in obj]
    return obj


def _forget() -> None:
    """Drop the caches keyed by an article's text: in the pipeline each stage is its own process
    and sees an article once, so a figure must not profit from the previous stage or a repeat."""
    import importlib

    for module, name in (
        ("services.text.traps", "_phrase_traps"),
        ("services.text.phrases", "_lower"),
        ("services.text.phrases", "_anchor_positions"),
    ):
        try:  # by name: a module or cache that is not there has nothing to forget
            cached = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if cached is not None:
            cached.cache_clear()


def run(raw_items: Iterable[bytes], golden: Any = None) -> dict[str, list[float]]:
    from services.offline.chain import Chain

    chain = Chain.load()
    cpu: dict[str, list[float]] = {"enrichment": [], "tagging": [], "alerts": [], "total": []}
    for raw in raw_items:
        _forget()
        c0 = time.process_time()
        e = chain.enrich_bytes(raw)
        c1 = time.process_time()
        t = chain.tag_bytes(e)
        c2 = time.process_time()
        _forget()
        c2b = time.process_time()
        alerts = chain.alerts_bytes(t)
        c3 = time.process_time()
        for name, v in (
            ("enrichment", c1 - c0),
            ("tagging", c2 - c1),
            ("alerts", c3 - c2b),
            ("total", c3 - c2b + c2 - c0),
        ):
            cpu[name].append(v * 1000)
        if golden is not None:
            for b in (e, t, *alerts):
                golden.write(json.dumps(_strip_times(json.loads(b)), sort_keys=True) + "\n")
    return cpu


def corpus(n: int, seed: int) -> list[bytes]:
    from services.bench.corpus import generated
    from services.ingest.parse import from_mapping

    return [from_mapping(a, source="bench").model_dump_json().encode() for a in generated(n, seed)]


def files(paths: list[Path]) -> list[bytes]:
    from services.ingest.parse import read_paths

    return [i.article.model_dump_json().encode() for i in read_paths(paths) if i.article]


def _report(name: str, cpu: dict[str, list[float]]) -> None:
    parts = ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in cpu.items())
    print(f"{name} ({len(cpu['total'])} articles): median CPU ms/article: {parts}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m services.bench.stages", description=__doc__)
    ap.add_argument("-n", type=int, default=300, help="synthetic articles (2-8 KB)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--files", type=Path, nargs="*", default=[ROOT / "seeds"])
    ap.add_argument("--repeat", type=int, default=50, help="passes over the file articles")
    ap.add_argument("--golden", type=Path, help="write every output (no timestamps) here")
    args = ap.parse_args(argv)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    synthetic = corpus(args.n, args.seed)
    seeds = files(args.files)
    out = args.golden.open("w", encoding="utf-8") if args.golden else None
    try:
        run(synthetic[:20])  # warm caches and compiled patterns
        # the story state would treat repeats as redeliveries: each pass gets a fresh one in run()
        seed_cpu: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            for k, v in run(seeds).items():
                seed_cpu.setdefault(k, []).extend(v)
        _report("seeds", seed_cpu)
        _report("synthetic", run(synthetic, out))
        if out is not None:
            run(seeds, out)
    finally:
        if out is not None:
            out.close()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
