"""The report is built from observations alone: counts, latencies, per-process CPU, ratios, table."""

from __future__ import annotations

import io
import json

from rich.console import Console

from services.bench.report import build, render
from services.bench.run import Observed

T0 = 1_700_000_000.0


def _observed() -> Observed:
    obs = Observed()
    for i in range(4):
        t = T0 + i * 0.5
        obs.published[f"a{i}"] = t
        obs.tagged[f"a{i}"] = {
            "ingested": t,
            "enriched": t + 0.01,
            "tagged": t + 0.03,
            "seen": t + 0.04,
        }
    for i in range(2):
        t = T0 + i * 0.5
        alert = {"ingested": t, "tagged": t + 0.03, "alerted": t + 0.05}
        obs.alerts_kafka[f"x{i}"] = {**alert, "seen": t + 0.06}
        obs.alerts_redis[f"x{i}"] = {**alert, "received": t + 0.07}
    obs.cpu = [{"t": T0, "enrichment": 1.0}, {"t": T0 + 2.0, "enrichment": 1.5}]
    obs.lag = [{"t": T0, "enrichment": 0, "tagging": 3, "alerts": 0}]
    return obs


def test_build_counts_latency_cpu_and_ratios() -> None:
    window = {"started": T0, "published": T0 + 1.5, "finished": T0 + 2.0, "redis_stream_len": 2}
    base = {
        "core": {
            "models": {"per_s": 25.0, "cpu_ms_per_article": 4.0},
            "with_json": {"per_s": 20.0, "cpu_ms_per_article": 5.0},
        },
        "passthrough_batched": {"per_s": 1000.0, "ack": "per batch", "cpu_s_per_1000": 0.05},
        "faust_relay": {"hops": 3, "per_s": 500.0, "workers_cpu_s_per_1000": 0.7},
    }
    r = build(_observed(), window, count=4, peaks_kb={"enrichment": 2048}, baselines=base, meta={})
    assert r["complete"] is True
    assert r["counts"]["tagged"] == 4 and r["counts"]["alerts_lost_on_pubsub"] == 0
    assert r["latency_ms"]["ingest -> tagged"]["p50"] == 30.0
    assert r["latency_ms"]["ingest -> alert in Redis"]["max"] == 70.0
    assert r["throughput"]["end_to_end_tagged_per_s"] == round(4 / 1.53, 1)
    enrichment = r["processes"]["enrichment"]
    assert (enrichment["cpu_s_per_1000"], enrichment["peak_rss_mb"]) == (125.0, 2.0)
    assert r["ratios"]["pipeline_vs_passthrough"] == round(4 / 1.53 / 1000, 3)
    assert r["ratios"]["pipeline_vs_faust_relay"] == round(4 / 1.53 / 500, 3)
    assert r["lag_max"] == {"enrichment": 0, "tagging": 3, "alerts": 0}
    assert sum(r["series"]["tagged_per_s"]) == 4
    json.dumps(r, allow_nan=False)  # the JSON report must be strict JSON

    out = io.StringIO()
    Console(file=out, width=140).print(render({**r, "baselines": {}}))
    assert "ingest -> alert in Redis" in out.getvalue()
    out = io.StringIO()
    Console(file=out, width=140).print(render(r))
    assert "worker relay, 3 hops, no work" in out.getvalue()


def test_missing_stream_entries_make_the_run_incomplete() -> None:
    window = {"started": T0, "published": T0, "finished": T0, "redis_stream_len": 1}
    r = build(_observed(), window, count=4, peaks_kb={}, baselines={}, meta={})
    assert r["complete"] is False
