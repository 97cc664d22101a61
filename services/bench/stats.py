"""Pure arithmetic of the bench: percentiles, per-second series, /proc parsing. No I/O here."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

STAGES = ("ingested", "enriched", "tagged", "alerted")


def epoch(value: object) -> float | None:
    """ISO-8601 text (as pydantic writes datetimes) to epoch seconds; None stays None."""
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def stage_times(times: Mapping[str, object]) -> dict[str, float]:
    """The stage timestamps of a record's `times` that are set, as epoch seconds."""
    out = {}
    for stage in STAGES:
        t = epoch(times.get(stage))
        if t is not None:
            out[stage] = t
    return out


def percentiles(values: Sequence[float]) -> dict[str, float | int]:
    """Nearest-rank p50/p95/p99 and max; count so an empty or tiny sample is visible."""
    if not values:
        return {"count": 0, "p50": math.nan, "p95": math.nan, "p99": math.nan, "max": math.nan}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    return {
        "count": len(ordered),
        "p50": rank(0.50),
        "p95": rank(0.95),
        "p99": rank(0.99),
        "max": ordered[-1],
    }


def rate(stamps: Sequence[float]) -> float:
    """Events per second between the first and the last event (0 for fewer than two)."""
    if len(stamps) < 2:
        return 0.0
    span = max(stamps) - min(stamps)
    return (len(stamps) - 1) / span if span > 0 else math.inf


def per_second(stamps: Iterable[float], t0: float, seconds: int) -> list[int]:
    """Count of events in each whole second after t0."""
    counts = Counter(int(t - t0) for t in stamps if t >= t0)
    return [counts.get(i, 0) for i in range(seconds)]


def latency_per_second(
    pairs: Iterable[tuple[float, float]], t0: float, seconds: int, q: float
) -> list[float | None]:
    """Quantile q of (time, latency) pairs, bucketed by the whole second of `time` after t0."""
    buckets: dict[int, list[float]] = {}
    for start, latency in pairs:
        buckets.setdefault(int(start - t0), []).append(latency)
    out: list[float | None] = []
    for i in range(seconds):
        values = sorted(buckets.get(i, []))
        out.append(values[max(0, math.ceil(q * len(values)) - 1)] if values else None)
    return out


def cpu_seconds(stat: str, ticks_per_second: int) -> float:
    """utime + stime from the text of /proc/<pid>/stat (fields after the parenthesised name)."""
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / ticks_per_second


def status_kb(status: str, field: str) -> int | None:
    """A `kB` field such as VmHWM (peak RSS) from the text of /proc/<pid>/status."""
    for line in status.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None
