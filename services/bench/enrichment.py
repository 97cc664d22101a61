"""Benchmark of `enrich()`: start-up, median/p99 per article, peak RSS. Not a test; prints figures.

    uv run python -m services.bench.enrichment [PATHS] [--reuters DIR] [--limit N] [--repeat N]

PATHS are article files or folders as ingest reads them (default: seeds/). The Reuters-21578 replay
corpus is used from ../shared/corpora/reuters21578-xml when present (it is never copied into the repo).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from schemas import RawArticle
from services.common.settings import CORPORA

ROOT = Path(__file__).resolve().parents[2]
REUTERS = CORPORA / "reuters21578-xml"


def reuters_articles(folder: Path) -> Iterator[RawArticle]:
    """Reuters-21578 stories with a title and a body, read by the archive replayer's mapping."""
    # the replay mapping keeps title-only briefs (body = title); timing wants real bodies
    return (a for a in file_articles([folder], include="reut2-*.xml") if a.body != a.title)


def file_articles(paths: list[Path], include: str | None = None) -> list[RawArticle]:
    from services.ingest.archive import read_archive

    return [item.article for item, _ in read_archive(paths, include=include) if item.article]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _p99(sorted_values: list[float]) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * 0.99))]


def measure(articles: list[RawArticle], repeat: int = 1) -> dict[str, float]:
    from services.enrichment.core import enrich

    per_article: list[float] = []
    per_5kb: list[float] = []
    cpu: list[float] = []
    for a in articles:
        size = len(a.title) + len(a.body)
        for _ in range(repeat):
            c = time.process_time()
            t = time.perf_counter()
            enrich(a)
            ms = (time.perf_counter() - t) * 1000
            cpu.append((time.process_time() - c) * 1000)
            per_article.append(ms)
            per_5kb.append(cpu[-1] * 5000 / max(size, 1))
    per_article.sort()
    cpu.sort()
    return {
        "articles": len(articles),
        "runs": len(per_article),
        "mean_chars": statistics.fmean(len(a.title) + len(a.body) for a in articles),
        "median_ms": statistics.median(per_article),
        "p99_ms": _p99(per_article),
        "max_ms": per_article[-1],
        "cpu_median_ms": statistics.median(cpu),
        "cpu_p99_ms": _p99(cpu),
        "cpu_median_ms_per_5kb": statistics.median(per_5kb),
        "articles_per_s": 1000 * len(per_article) / sum(per_article),
    }


def _print(name: str, r: dict[str, float]) -> None:
    print(
        f"{name}: {int(r['articles'])} articles x{int(r['runs'] / max(r['articles'], 1))} "
        f"(mean {r['mean_chars']:.0f} chars)\n  wall: median {r['median_ms']:.3f} ms, "
        f"p99 {r['p99_ms']:.3f} ms, max {r['max_ms']:.3f} ms, {r['articles_per_s']:.0f} articles/s\n"
        f"  cpu:  median {r['cpu_median_ms']:.3f} ms, p99 {r['cpu_p99_ms']:.3f} ms, "
        f"median per 5 KB of text {r['cpu_median_ms_per_5kb']:.3f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m services.bench.enrichment", description=__doc__)
    ap.add_argument("paths", nargs="*", type=Path, help="article files/folders (default: seeds/)")
    ap.add_argument("--reuters", type=Path, default=REUTERS, help="Reuters-21578 XML folder")
    ap.add_argument("--limit", type=int, default=0, help="at most N Reuters stories (0: all)")
    ap.add_argument("--repeat", type=int, default=200, help="runs per file article")
    args = ap.parse_args(argv)

    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    print(
        f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
    )
    t0, c0 = time.perf_counter(), time.process_time()
    import services.enrichment.worker  # noqa: F401  (faust, schemas: what the worker imports)

    t_import, c_import = time.perf_counter() - t0, time.process_time() - c0
    from services.enrichment.core import warm_up

    warm_up()
    t_start, c_start = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"worker start-up: {t_start * 1000:.0f} ms wall, {c_start * 1000:.0f} ms cpu (imports "
        f"{t_import * 1000:.0f} ms wall / {c_import * 1000:.0f} ms cpu; data files, automaton and "
        f"models {(t_start - t_import) * 1000:.0f} ms / {(c_start - c_import) * 1000:.0f} ms); "
        f"RSS after start-up {_peak_rss_mb():.0f} MB"
    )
    files = file_articles(args.paths or [ROOT / "seeds"])
    if files:
        _print("files", measure(files, repeat=args.repeat))
    if args.reuters.exists():
        stories = list(reuters_articles(args.reuters))
        if args.limit:
            stories = stories[: args.limit]
        _print(f"reuters ({args.reuters})", measure(stories))
    else:
        print(f"reuters: skipped, {args.reuters} not found")
    print(f"peak RSS: {_peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
