"""The campaign's figures from `make chaos` result lines: one row per run, recovery per fault kind.

`uv run python -m tests.fault.chaos_report .newswire/chaos.jsonl` prints a Markdown table of the
runs (seed, window, sent, lost, doubled, invariant) and the recovery time per fault kind over all
runs (median, max, not caught up), from each fault's own time (`recovery_s`) where the run wrote
it, else from the run's per-kind median and max (older lines)."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any


def main(path: str) -> None:
    runs = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    print(
        "| seed | window s | sent | lost (stream / enriched / tagged) | doubled | missing at "
        "subscriber | commits checked | invariant violations |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in runs:
        print(
            f"| {r['seed']} | {r['seconds']:.0f} | {r['sent']} | {r['lost']} / "
            f"{r.get('lost_at_enrichment', '?')} / {r.get('lost_at_tagging', '?')} | "
            f"{r['duplicated']} | {r['subscriber_missing']} | {r['commits_checked']} | "
            f"{r['invariant_violations']} |"
        )
    values: dict[str, list[float]] = {}
    missed: dict[str, int] = {}
    approx: set[str] = set()
    for r in runs:
        raw: dict[str, list[Any]] = r.get("recovery_s") or {}
        for kind, stats in r["recovery"].items():
            missed[kind] = missed.get(kind, 0) + stats["not_caught_up"]
            if kind in raw:
                values.setdefault(kind, []).extend(x for x in raw[kind] if x is not None)
            elif stats["median_s"] is not None:  # an older line: rebuilt from median and max
                n = stats["n"] - stats["not_caught_up"]
                med, top = stats["median_s"], stats["max_s"]
                if n == 2:  # exact: the median of two is their mean
                    got = [round(2 * med - top, 1), top]
                else:  # exact for one; for more the others stand at the median
                    got = [med] * (n - 1) + [top]
                    if n > 2:
                        approx.add(kind)
                values.setdefault(kind, []).extend(got)
    print("\n| fault kind | faults | recovery median s | max s | not caught up |")
    print("|---|---|---|---|---|")
    for kind in sorted(set(values) | set(missed)):
        v = values.get(kind, [])
        med = f"{statistics.median(v):.1f}" if v else "-"
        top = f"{max(v):.1f}" if v else "-"
        mark = " (approx.)" if kind in approx else ""
        print(
            f"| {kind} | {len(v) + missed.get(kind, 0)} | {med}{mark} | {top} | "
            f"{missed.get(kind, 0)} |"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".newswire/chaos.jsonl")
