"""Pure arithmetic of the bench."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from services.bench import stats


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=200))
def test_percentiles_are_ordered_members_of_the_sample(values: list[float]) -> None:
    p = stats.percentiles(values)
    assert p["count"] == len(values)
    assert p["p50"] <= p["p95"] <= p["p99"] <= p["max"] == max(values)
    assert {p["p50"], p["p95"], p["p99"]} <= set(values)


def test_percentiles_nearest_rank() -> None:
    p = stats.percentiles([float(i) for i in range(1, 101)])
    assert (p["p50"], p["p95"], p["p99"], p["max"]) == (50.0, 95.0, 99.0, 100.0)
    assert math.isnan(stats.percentiles([])["p50"])


def test_rate_and_per_second() -> None:
    assert stats.rate([10.0, 10.5, 11.0]) == 2.0
    assert stats.rate([1.0]) == 0.0
    assert stats.per_second([0.1, 0.2, 1.5, 3.9, -1.0], t0=0.0, seconds=4) == [2, 1, 0, 1]


def test_latency_per_second_buckets_by_time() -> None:
    pairs = [(0.1, 0.010), (0.9, 0.030), (2.2, 0.050)]
    assert stats.latency_per_second(pairs, 0.0, 3, 0.99) == [0.030, None, 0.050]


def test_stage_times_reads_iso_timestamps() -> None:
    got = stats.stage_times(
        {
            "ingested": "2024-11-19T10:00:00Z",
            "enriched": "2024-11-19T10:00:00.250000+00:00",
            "tagged": None,
        }
    )
    assert set(got) == {"ingested", "enriched"}
    assert got["enriched"] - got["ingested"] == 0.25


def test_proc_parsing() -> None:
    # a process name with spaces and parentheses must not shift the fields
    stat = "123 (python (x) y) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0 100 0 0"
    assert stats.cpu_seconds(stat, 100) == 3.0
    status = "Name:\tpython\nVmHWM:\t  81234 kB\nVmRSS:\t  80000 kB\n"
    assert stats.status_kb(status, "VmHWM") == 81234
    assert stats.status_kb(status, "VmSwap") is None
