"""`newswire status` as pure functions: heartbeats + consumer lag -> one row per service -> text."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def status_rows(
    services: Sequence[str],
    heartbeats: Iterable[Mapping[str, str]],
    lags: Mapping[str, int | None],
    now: float | None = None,
) -> list[dict[str, Any]]:
    """One row per expected service (even when no replica reports), one more for any other reporter.

    Counts are summed over replicas; the last error is the newest of any replica.
    """
    now = time.time() if now is None else now
    by_service: dict[str, list[Mapping[str, str]]] = {s: [] for s in services}
    for hb in heartbeats:
        by_service.setdefault(hb.get("service", "?"), []).append(hb)
    rows = []
    for service, beats in by_service.items():
        newest_error = max(beats, key=lambda b: b.get("last_error_at", ""), default={})
        seen = [float(b["seen_at"]) for b in beats if b.get("seen_at")]
        rows.append(
            {
                "service": service,
                "state": "up" if beats else "not running",
                "replicas": len(beats),
                "processed": sum(int(b.get("processed", 0) or 0) for b in beats),
                "dead_lettered": sum(int(b.get("dead_lettered", 0) or 0) for b in beats),
                "errors": sum(int(b.get("errors", 0) or 0) for b in beats),
                "lag": lags.get(service),
                "last_seen_s": round(now - max(seen), 1) if seen else None,
                "last_error": newest_error.get("last_error", ""),
                "last_error_at": newest_error.get("last_error_at", ""),
                "endpoints": sorted(b["endpoint"] for b in beats if b.get("endpoint")),
            }
        )
    return rows


def format_status(rows: Sequence[Mapping[str, Any]]) -> str:
    head = f"{'service':12} {'state':12} {'replicas':>8} {'processed':>10} {'dead':>6} {'errors':>6} {'lag':>8}  last error"
    lines = [head]
    for r in rows:
        lag = "-" if r["lag"] is None else str(r["lag"])
        err = " ".join(f"{r['last_error_at']} {r['last_error']}".split()) or "-"
        lines.append(
            f"{r['service']:12} {r['state']:12} {r['replicas']:>8} {r['processed']:>10} "
            f"{r['dead_lettered']:>6} {r['errors']:>6} {lag:>8}  {err[:120]}"
        )
    return "\n".join(lines)
