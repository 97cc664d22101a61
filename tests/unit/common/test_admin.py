from __future__ import annotations

from services.common.kafka_admin import GroupLag, topic_specs
from services.common.settings import Settings


def test_production_specs_replicate_three_times_with_two_in_sync() -> None:
    specs = {s.name: s for s in topic_specs(Settings(partitions=12, replication_factor=3))}
    assert all(s.partitions == 12 and s.replication_factor == 3 for s in specs.values())
    assert all(s.configs["min.insync.replicas"] == "2" for s in specs.values())
    assert specs["newswire.alerts.v1"].configs["cleanup.policy"] == "compact,delete"
    assert specs["newswire.articles.raw.v1"].configs["cleanup.policy"] == "delete"


def test_single_broker_specs_do_not_demand_more_in_sync_replicas_than_exist() -> None:
    specs = topic_specs(Settings(replication_factor=1, retention_days=1.5))
    assert {s.configs["min.insync.replicas"] for s in specs} == {"1"}
    assert specs[0].configs["retention.ms"] == str(int(1.5 * 24 * 3600 * 1000))


def test_lag_counts_never_committed_partitions_from_zero() -> None:
    lag = GroupLag(group="g", topic="t", committed={0: 5, 1: 9}, end={0: 7, 1: 9, 2: 4})
    assert lag.by_partition == {0: 2, 1: 0, 2: 4}
    assert lag.total == 6
