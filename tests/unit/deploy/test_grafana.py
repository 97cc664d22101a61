"""The Grafana dashboard queries only metrics the services export."""

from __future__ import annotations

import json
import re

from prometheus_client import Counter, Gauge, Histogram

from services.common import metrics
from services.common.settings import PROJECT_ROOT

DASHBOARD = PROJECT_ROOT / "deploy" / "grafana" / "newswire-dashboard.json"


def exported_names() -> set[str]:
    names: set[str] = set()
    for obj in vars(metrics).values():
        if isinstance(obj, Counter):
            names.add(f"{obj._name}_total")
        elif isinstance(obj, Histogram):
            names |= {f"{obj._name}_{s}" for s in ("bucket", "count", "sum")}
        elif isinstance(obj, Gauge):
            names.add(obj._name)
    return names


def test_every_dashboard_query_uses_exported_metrics() -> None:
    doc = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in doc["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"newswire_[a-z_]+", e)}
    assert used, "no newswire metric in the dashboard"
    assert used <= exported_names(), used - exported_names()
    covered = {n.removesuffix("_bucket") for n in used}
    for needed in (
        "newswire_records_in_total",
        "newswire_dead_letters_total",
        "newswire_stage_latency_seconds",
        "newswire_end_to_end_latency_seconds",
        "newswire_consumer_lag",
        "newswire_alerts_total",
        "newswire_feed_last_success_timestamp_seconds",
    ):
        assert needed in covered, needed


def test_panel_ids_are_unique_and_uid_is_stable() -> None:
    doc = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
    assert doc["uid"] == "newswire"
