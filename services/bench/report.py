"""Turns what a run observed into the report (a JSON-able dict), its rich table and its plot."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from services.bench import fused, stats
from services.bench.run import Observed

LATENCIES = (
    # name, record set, start stage, end stage
    ("ingest -> enriched", "tagged", "ingested", "enriched"),
    ("enriched -> tagged", "tagged", "enriched", "tagged"),
    ("ingest -> tagged", "tagged", "ingested", "tagged"),
    ("ingest -> tagged record read", "tagged", "ingested", "seen"),
    ("tagged -> alerted", "alerts_kafka", "tagged", "alerted"),
    ("ingest -> alert on Kafka", "alerts_kafka", "ingested", "seen"),
    ("alerted -> alert in Redis", "alerts_redis", "alerted", "received"),
    ("ingest -> alert in Redis", "alerts_redis", "ingested", "received"),
)


def _round(x: float, digits: int = 1) -> float | None:
    return None if math.isnan(x) or math.isinf(x) else round(x, digits)


def _ms(values: list[float]) -> dict[str, float | int | None]:
    p = stats.percentiles([v * 1000 for v in values])
    return {k: (v if k == "count" else _round(float(v))) for k, v in p.items()}


def _pairs(records: Mapping[str, Mapping[str, float]], a: str, b: str) -> list[tuple[float, float]]:
    """(end time, latency) of every record that has both stages."""
    return [(r[b], r[b] - r[a]) for r in records.values() if a in r and b in r]


def build(
    obs: Observed,
    window: Mapping[str, Any],
    *,
    count: int,
    peaks_kb: Mapping[str, int | None],
    baselines: Mapping[str, Any],
    meta: Mapping[str, Any],
) -> dict[str, Any]:
    tagged, k_alerts, r_alerts = obs.tagged, obs.alerts_kafka, obs.alerts_redis
    first = min((r["ingested"] for r in tagged.values() if "ingested" in r), default=math.nan)
    last_tagged = max((r["tagged"] for r in tagged.values() if "tagged" in r), default=math.nan)
    last_alert = max((r["received"] for r in r_alerts.values()), default=last_tagged)
    e2e = len(tagged) / (last_tagged - first) if last_tagged > first else math.nan
    to_alerts = len(tagged) / (last_alert - first) if last_alert > first else math.nan

    def stamps(records: Mapping[str, Mapping[str, float]], key: str) -> list[float]:
        return [r[key] for r in records.values() if key in r]

    stage_stamps = {
        "ingest": stamps(tagged, "ingested"),
        "enrichment": stamps(tagged, "enriched"),
        "tagging": stamps(tagged, "tagged"),
        "alerts (alerts emitted)": stamps(k_alerts, "alerted"),
    }
    stages = {
        name: {"records": len(ts), "per_s": _round(stats.rate(ts))}
        for name, ts in stage_stamps.items()
    }

    latency = {
        name: _ms([lat for _, lat in _pairs(getattr(obs, rs), a, b)])
        for name, rs, a, b in LATENCIES
    }

    cpu0 = obs.cpu[0] if obs.cpu else {}
    cpu1 = obs.cpu[-1] if obs.cpu else {}
    span = (cpu1.get("t", 0.0) - cpu0.get("t", 0.0)) or math.nan
    processes = {}
    for name in sorted(set(cpu0) | set(peaks_kb)):
        if name == "t":
            continue
        used = cpu1.get(name, math.nan) - cpu0.get(name, math.nan)
        peak = peaks_kb.get(name)
        processes[name] = {
            "cpu_s": _round(used, 2),
            "cpu_s_per_1000": _round(used / count * 1000, 3) if count else None,
            "cpu_share_pct": _round(used / span * 100, 1),
            "peak_rss_mb": round(peak / 1024, 1) if peak else None,
        }

    seconds = (
        max(1, math.ceil((max(last_alert, last_tagged) - window["started"]) + 1)) if tagged else 1
    )
    t0 = window["started"]
    series: dict[str, Any] = {
        "t": list(range(seconds)),
        "published_per_s": stats.per_second(obs.published.values(), t0, seconds),
        "ingested_per_s": stats.per_second(stamps(tagged, "ingested"), t0, seconds),
        "enriched_per_s": stats.per_second(stamps(tagged, "enriched"), t0, seconds),
        "tagged_per_s": stats.per_second(stamps(tagged, "tagged"), t0, seconds),
        "alerts_redis_per_s": stats.per_second(stamps(r_alerts, "received"), t0, seconds),
        "tagged_p50_ms": _series_ms(_pairs(tagged, "ingested", "tagged"), t0, seconds, 0.5),
        "tagged_p99_ms": _series_ms(_pairs(tagged, "ingested", "tagged"), t0, seconds, 0.99),
        "redis_p50_ms": _series_ms(_pairs(r_alerts, "ingested", "received"), t0, seconds, 0.5),
        "redis_p99_ms": _series_ms(_pairs(r_alerts, "ingested", "received"), t0, seconds, 0.99),
        "lag": [{k: (round(v - t0, 2) if k == "t" else v) for k, v in s.items()} for s in obs.lag],
    }
    lag_max = {
        g: max((int(s.get(g, 0)) for s in obs.lag), default=0)
        for g in sorted({k for s in obs.lag for k in s if k != "t"})
    }

    ratios: dict[str, float | None] = {}
    pt = baselines.get("passthrough_batched", {}).get("per_s")
    if pt:
        ratios["pipeline_vs_passthrough"] = _round(e2e / pt, 3)
    pt1 = baselines.get("passthrough_per_message", {}).get("per_s")
    if pt1:
        ratios["pipeline_vs_passthrough_ack_per_message"] = _round(e2e / pt1, 3)
    relay = baselines.get("faust_relay", {}).get("per_s")
    if relay:
        ratios["pipeline_vs_faust_relay"] = _round(e2e / relay, 3)
    core = baselines.get("core", {})
    if core.get("with_json", {}).get("per_s"):
        ratios["pipeline_vs_core_with_json"] = _round(e2e / core["with_json"]["per_s"], 3)
        services_cpu = sum(
            p["cpu_s_per_1000"] or 0.0
            for n, p in processes.items()
            if n in ("ingest", "tagging", "alerts", fused.SERVICE) or n.startswith("enrichment")
        )
        floor = core["with_json"]["cpu_ms_per_article"]  # ms per article == s per 1000
        ratios["services_cpu_vs_core_with_json_cpu"] = (
            _round(services_cpu / floor, 2) if floor else None
        )

    # The stream (history) is the delivery guarantee; pub/sub is at-most-once, its losses are counted.
    stream_len = window.get("redis_stream_len")
    complete = len(tagged) == count and stream_len is not None and stream_len >= len(k_alerts)
    return {
        "meta": dict(meta),
        "complete": complete,
        "counts": {
            "articles": count,
            "published": len(obs.published),
            "tagged": len(tagged),
            "alerts_kafka": len(k_alerts),
            "alerts_redis": len(r_alerts),
            "alerts_redis_stream_incl_warmup": stream_len,
            "alerts_lost_on_pubsub": len(k_alerts) - len(r_alerts),
            "enriched_incl_warmup": window.get("enriched_written"),
        },
        "throughput": {
            "end_to_end_tagged_per_s": _round(e2e),
            "end_to_end_alert_delivery_per_s": _round(to_alerts),
            "publish_s": _round(window["published"] - window["started"], 2),
            "drain_s": _round(window["finished"] - window["started"], 2),
        },
        "stages": stages,
        "latency_ms": latency,
        "processes": processes,
        "lag_max": lag_max,
        "baselines": dict(baselines),
        "ratios": ratios,
        "series": series,
    }


def _series_ms(
    pairs: list[tuple[float, float]], t0: float, seconds: int, q: float
) -> list[float | None]:
    return [
        None if v is None else round(v * 1000, 1)
        for v in stats.latency_per_second(pairs, t0, seconds, q)
    ]


def render(report: Mapping[str, Any]) -> Any:
    """A rich renderable: one table per section."""
    from rich.console import Group
    from rich.table import Table

    m, c, t = report["meta"], report["counts"], report["throughput"]
    head = Table(title="newswire bench", show_header=False)
    head.add_row(
        "articles",
        f"{c['articles']} ({m.get('corpus')}), rate {m.get('rate') or 'max'}, via {m.get('via')}",
    )
    head.add_row("replicas", ", ".join(f"{k}={v}" for k, v in m.get("replicas", {}).items()))
    head.add_row("load average", f"before {m.get('load_before')} after {m.get('load_after')}")
    head.add_row(
        "complete",
        f"{report['complete']}: tagged {c['tagged']}, alerts Kafka {c['alerts_kafka']} / Redis pub/sub "
        f"{c['alerts_redis']} (stream incl. warm-up {c['alerts_redis_stream_incl_warmup']})",
    )
    head.add_row("end to end (tagged)", f"{t['end_to_end_tagged_per_s']} articles/s")
    head.add_row(
        "end to end (alert delivery)", f"{t['end_to_end_alert_delivery_per_s']} articles/s"
    )
    for k, v in report["ratios"].items():
        head.add_row(k, str(v))

    lat = Table(title="latency (ms)")
    for col in ("path", "count", "p50", "p95", "p99", "max"):
        lat.add_column(col, justify="left" if col == "path" else "right")
    for name, p in report["latency_ms"].items():
        lat.add_row(name, *(str(p[k]) for k in ("count", "p50", "p95", "p99", "max")))

    stg = Table(title="stages")
    for col in ("stage", "records", "per s"):
        stg.add_column(col, justify="left" if col == "stage" else "right")
    for name, s in report["stages"].items():
        stg.add_row(name, str(s["records"]), str(s["per_s"]))

    proc = Table(title="processes")
    for col in ("process", "CPU s", "CPU s / 1000 articles", "CPU %", "peak RSS MB", "max lag"):
        proc.add_column(col, justify="left" if col == "process" else "right")
    for name, p in report["processes"].items():
        lag = report["lag_max"].get(name.split("-")[0], "")
        proc.add_row(
            name,
            str(p["cpu_s"]),
            str(p["cpu_s_per_1000"]),
            str(p["cpu_share_pct"]),
            str(p["peak_rss_mb"]),
            str(lag),
        )

    base = Table(title="baselines")
    for col in ("baseline", "articles/s", "CPU"):
        base.add_column(col, justify="left" if col == "baseline" else "right")
    b = report["baselines"]
    if "core" in b:
        for k in ("models", "with_json"):
            base.add_row(
                f"core ({k}), 1 thread",
                str(b["core"][k]["per_s"]),
                f"{b['core'][k]['cpu_ms_per_article']} ms/article",
            )
    for k in ("passthrough_batched", "passthrough_per_message"):
        if k in b:
            base.add_row(
                f"aiokafka pass-through, ack {b[k]['ack']}",
                str(b[k]["per_s"]),
                f"{b[k]['cpu_s_per_1000']} s/1000",
            )
    if "faust_relay" in b:
        r = b["faust_relay"]
        base.add_row(
            f"worker relay, {r['hops']} hops, no work",
            str(r["per_s"]),
            f"{r['workers_cpu_s_per_1000']} s/1000 (workers)",
        )
    return Group(head, lat, stg, proc, base)


def plot(report: Mapping[str, Any], path: Path) -> None:
    """Throughput, latency and consumer lag over the run, one panel each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = report["series"]
    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(10, 10), sharex=True)
    for key, label in (
        ("ingested_per_s", "ingested"),
        ("enriched_per_s", "enriched"),
        ("tagged_per_s", "tagged"),
        ("alerts_redis_per_s", "alerts to Redis"),
    ):
        ax1.plot(s["t"], s[key], label=label)
    ax1.set_ylabel("per second")
    ax1.set_title("throughput")
    ax1.legend()
    for key, label in (
        ("tagged_p50_ms", "ingest->tagged p50"),
        ("tagged_p99_ms", "ingest->tagged p99"),
        ("redis_p50_ms", "ingest->Redis p50"),
        ("redis_p99_ms", "ingest->Redis p99"),
    ):
        ax2.plot(s["t"], [math.nan if v is None else v for v in s[key]], ".-", label=label)
    ax2.set_ylabel("ms (by second of arrival)")
    ax2.set_yscale("log")
    ax2.set_title("latency")
    ax2.legend()
    for group in report["lag_max"]:
        ax3.plot(
            [x["t"] for x in s["lag"]], [x.get(group, math.nan) for x in s["lag"]], label=group
        )
    ax3.set_ylabel("records")
    ax3.set_xlabel("seconds since the first article")
    ax3.set_title("consumer lag")
    ax3.legend()
    m = report["meta"]
    fig.suptitle(
        f"newswire bench: {report['counts']['articles']} articles, rate {m.get('rate') or 'max'}, "
        f"e2e {report['throughput']['end_to_end_tagged_per_s']}/s"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
