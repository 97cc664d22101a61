"""`newswire bench`: throughput, latency, CPU and lag of the whole pipeline (docs/benchmarks.md)."""

from __future__ import annotations

import click


def _bench_command() -> click.Command:
    from services.bench.command import bench

    return bench


bench = _bench_command()
