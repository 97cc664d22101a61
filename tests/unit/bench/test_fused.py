"""The fused experiment stands in for enrichment and tagging, and for nothing else."""

from __future__ import annotations

import sys

from services.bench import fused
from services.bench.run import lag_groups
from services.common.topology import SERVICES


def test_the_fused_worker_replaces_enrichment_and_tagging() -> None:
    assert fused.services(SERVICES) == ("ingest", "annotate", "alerts", "trends")


def test_each_enrichment_replica_becomes_a_fused_replica() -> None:
    names = (*SERVICES, "enrichment", "enrichment")
    assert fused.services(names).count("annotate") == 3
    assert "tagging" not in fused.services(names)


def test_lag_is_sampled_for_the_groups_that_run() -> None:
    assert lag_groups(False) == {
        "enrichment": "raw",
        "tagging": "enriched",
        "alerts": "tagged",
        "trends": "trend_terms",
    }
    assert lag_groups(True) == {"annotate": "raw", "alerts": "tagged", "trends": "trend_terms"}


def test_only_the_fused_worker_gets_its_own_command() -> None:
    assert fused.command("annotate") == [sys.executable, "-m", "services.bench.fused"]
    assert fused.command("alerts")[-2:] == ["run", "alerts"]
