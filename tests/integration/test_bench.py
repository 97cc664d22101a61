"""`newswire bench` end to end on the test stack: a tiny run must give a complete report (never a speed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from services.cli import main
from services.common.settings import Settings, get_settings

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

COUNT = 30


def run_bench(
    stack: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *options: str
) -> tuple[str, dict[str, Any]]:
    """A tiny bench on the test stack as "external" services (the bench starts the services on it
    itself): its printed output and its JSON report."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", stack.bootstrap)
    monkeypatch.setenv("REDIS_URL", stack.redis)
    monkeypatch.setenv("NEWSWIRE_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    path = tmp_path / "report.json"
    args = ["-n", str(COUNT), "--warmup", "5", "--broker-warmup", "1", "--json", str(path)]
    try:
        result = CliRunner().invoke(main, ["bench", *args, *options])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output + repr(result.exception)
    doc: dict[str, Any] = json.loads(path.read_text())
    return result.output, doc


@pytest.fixture
def report(stack: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    plot = tmp_path / "plot.png"
    output, doc = run_bench(
        stack, tmp_path, monkeypatch, "--core-sample", "10", "--plot", str(plot)
    )
    assert "latency (ms)" in output
    assert plot.read_bytes().startswith(b"\x89PNG")
    return doc


def test_tiny_run_gives_a_complete_report(report: dict[str, object]) -> None:
    r: dict[str, object] = report
    assert r["complete"] is True
    counts = r["counts"]
    assert isinstance(counts, dict)
    assert counts["tagged"] == counts["published"] == COUNT
    assert counts["enriched_incl_warmup"] == COUNT + 5  # the run's and the warm-up's
    assert counts["alerts_redis"] == counts["alerts_kafka"] > 0

    latency = r["latency_ms"]
    assert isinstance(latency, dict)
    assert {"ingest -> tagged", "ingest -> alert in Redis"} <= set(latency)
    for path, p in latency.items():
        assert p["count"] > 0, path
        assert p["p50"] <= p["p95"] <= p["p99"] <= p["max"], path

    meta = r["meta"]
    assert isinstance(meta, dict)
    assert meta["broker_warmup"]["records"] > 0  # the broker saw requests before the run

    processes = r["processes"]
    assert isinstance(processes, dict)
    for name in ("ingest", "enrichment", "tagging", "alerts"):
        assert processes[name]["cpu_s_per_1000"] is not None, name
        assert processes[name]["peak_rss_mb"] > 0, name

    throughput = r["throughput"]
    assert isinstance(throughput, dict)
    assert throughput["end_to_end_tagged_per_s"] > 0
    assert set(r["lag_max"]) == {"enrichment", "tagging", "alerts", "trends"}  # type: ignore[arg-type]

    baselines = r["baselines"]
    assert isinstance(baselines, dict)
    assert baselines["core"]["with_json"]["per_s"] > 0
    assert baselines["passthrough_batched"]["records"] == COUNT + 5  # the run's and the warm-up's
    relay = baselines["faust_relay"]  # the same records through three no-work worker shells
    assert relay["records"] == COUNT + 5 and relay["hops"] == 3
    assert relay["per_s"] > 0
    assert {"relay1", "relay2", "relay3"} <= set(relay["cpu_s_per_1000"])
    ratios = set(r["ratios"])  # type: ignore[arg-type]
    assert {"pipeline_vs_passthrough", "pipeline_vs_core_with_json"} <= ratios
    assert "pipeline_vs_faust_relay" in ratios

    series = r["series"]
    assert isinstance(series, dict)
    assert sum(series["tagged_per_s"]) == COUNT
    assert len(series["t"]) == len(series["tagged_per_s"]) == len(series["redis_p99_ms"])
    assert series["lag"], "consumer lag was sampled"


def test_the_fused_experiment_runs_the_pipeline_in_three_workers(
    stack: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--fused`: enrichment and tagging in one process; every article still reaches the enriched
    topic's feed (the tagged record carries it) and every alert reaches Redis."""
    _, r = run_bench(
        stack,
        tmp_path,
        monkeypatch,
        "--fused",
        "--no-relay",
        "--no-passthrough",
        "--core-sample",
        "5",
    )
    assert r["complete"] is True and r["meta"]["fused"] is True
    assert r["counts"]["tagged"] == COUNT and r["counts"]["alerts_redis"] > 0
    assert {"annotate", "alerts", "trends", "ingest"} <= set(r["processes"])
    assert not {"enrichment", "tagging"} & set(r["processes"])
    assert r["processes"]["annotate"]["cpu_s_per_1000"] > 0
    assert set(r["lag_max"]) == {"annotate", "alerts", "trends"}
    assert r["counts"]["enriched_incl_warmup"] == COUNT + 5  # the enriched feed is still written


def test_the_settle_bench_measures_each_batch_size(stack: Settings) -> None:
    """`python -m services.bench.settle`: every batch size settles the same proposals into fresh
    keys and is measured, and it leaves no keys behind."""
    import asyncio

    import redis as sync_redis

    from services.bench import settle

    props = settle.proposals(12, 7)
    got = asyncio.run(settle.measure(stack.redis, props, [1, 5], 1))
    assert set(got) == {1, 5}
    for m in got.values():
        assert m["wall_ms"] > 0 and m["cpu_ms"] > 0 and m["redis_cpu_ms"] >= 0
    left = sync_redis.Redis.from_url(stack.redis).keys("bench-settle-*")
    assert left == []
