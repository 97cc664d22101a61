"""The Kafka admin client: topic creation and description, consumer-group lag and offsets, used by
the workers (topics at start-up, the lag gauge) and by the operator commands (`newswire topics`,
`newswire status`).

Topic specs (partitions, replication, retention, compaction) are data derived from settings, so the
same numbers feed `topics create`, the AsyncAPI document and the Strimzi KafkaTopic example.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import (
    CoordinatorNotAvailableError,
    GroupCoordinatorNotAvailableError,
    TopicAlreadyExistsError,
)

from services.common.kafka import stop_quietly
from services.common.retrying import STARTUP
from services.common.settings import Settings
from services.common.topics import Topics

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    configs: Mapping[str, str] = field(default_factory=dict)


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """Article topics are a replayable log (delete after `retention_days`); the alerts topic is keyed by
    the deterministic alert id, so compaction keeps one record per alert (compact,delete); dead
    letters are kept longer for operators.
    min.insync.replicas is 2 once there are 3 replicas."""
    t = Topics.from_settings(settings)
    rf = settings.replication_factor
    common = {"min.insync.replicas": str(min(2, rf)) if rf >= 3 else "1"}

    def days(d: float) -> str:
        return str(int(d * DAY_MS))

    article = {**common, "cleanup.policy": "delete", "retention.ms": days(settings.retention_days)}
    long_lived = days(settings.deadletter_retention_days)
    return [
        TopicSpec(t.raw, settings.partitions, rf, article),
        TopicSpec(t.enriched, settings.partitions, rf, article),
        TopicSpec(t.tagged, settings.partitions, rf, article),
        TopicSpec(
            t.alerts,
            settings.partitions,
            rf,
            {**common, "cleanup.policy": "compact,delete", "retention.ms": long_lived},
        ),
        # Trend counting: one record of terms per story-opening article (counts live in Redis).
        TopicSpec(t.trend_terms, settings.partitions, rf, article),
        TopicSpec(
            t.deadletter,
            settings.partitions,
            rf,
            {**common, "cleanup.policy": "delete", "retention.ms": long_lived},
        ),
    ]


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str]
    end_offsets: dict[int, int]

    @property
    def records(self) -> int:
        return sum(self.end_offsets.values())


@dataclass(frozen=True)
class GroupLag:
    group: str
    topic: str
    committed: dict[int, int]
    end: dict[int, int]

    @property
    def by_partition(self) -> dict[int, int]:
        """Uncommitted records per partition; a partition never committed counts from offset 0."""
        return {p: max(0, e - self.committed.get(p, 0)) for p, e in self.end.items()}

    @property
    def total(self) -> int:
        return sum(self.by_partition.values())


def _configs_of(response: Any) -> dict[str, dict[str, str]]:
    """DescribeConfigs response -> {topic: {name: value}}."""
    out: dict[str, dict[str, str]] = {}
    for res in response.resources:
        name, entries = res[3], res[4]
        out[name] = {e[0]: e[1] for e in entries if e[1] is not None}
    return out


class KafkaAdmin:
    """An admin client and a group-less consumer (for end offsets) on one bootstrap address."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.admin = AIOKafkaAdminClient(
            bootstrap_servers=settings.bootstrap, request_timeout_ms=10_000
        )
        self._consumer: AIOKafkaConsumer | None = None

    @property
    def consumer(self) -> AIOKafkaConsumer:
        assert self._consumer is not None, "use KafkaAdmin.connect()"
        return self._consumer

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, settings: Settings) -> AsyncIterator[KafkaAdmin]:
        self = cls(settings)
        await self.admin.start()
        try:
            # created only now: a consumer that never started warns when collected
            self._consumer = AIOKafkaConsumer(
                bootstrap_servers=settings.bootstrap, enable_auto_commit=False
            )
            await self.consumer.start()
            try:
                yield self
            finally:
                await stop_quietly(self.consumer)
        finally:
            await self.admin.close()

    async def partitions(self, topic: str) -> list[int]:
        (desc,) = await self.admin.describe_topics([topic])
        if desc.get("error_code"):
            raise LookupError(f"topic {topic}: error code {desc['error_code']} (does it exist?)")
        return sorted(p["partition"] for p in desc["partitions"])

    async def end_offsets(self, topic: str) -> dict[int, int]:
        tps = [TopicPartition(topic, p) for p in await self.partitions(topic)]
        ends = await self.consumer.end_offsets(tps)
        return {tp.partition: off for tp, off in ends.items()}

    async def apply(self, specs: Iterable[TopicSpec]) -> list[str]:
        """Create missing topics and bring existing ones to the spec (configs, more partitions).

        Returns what it did, one line per change, so running it twice reports nothing the second time.
        """
        specs = list(specs)
        existing = set(await self.admin.list_topics())
        changes: list[str] = []
        missing = [s for s in specs if s.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await self.admin.create_topics(
                    [
                        NewTopic(
                            s.name,
                            s.partitions,
                            s.replication_factor,
                            topic_configs=dict(s.configs),
                        )
                        for s in missing
                    ]
                )
            changes += [f"created {s.name} ({s.partitions} partitions)" for s in missing]
        present = [s for s in specs if s.name in existing]
        if not present:
            return changes
        current = await self.configs([s.name for s in present])
        for spec in present:
            have = current.get(spec.name, {})
            drift = {k: v for k, v in spec.configs.items() if have.get(k) != v}
            if drift:
                # Legacy AlterConfigs replaces the whole set: send every managed value.
                await self.admin.alter_configs(
                    [ConfigResource(ConfigResourceType.TOPIC, spec.name, dict(spec.configs))]
                )
                changes.append(f"configured {spec.name}: {drift}")
            count = len(await self.partitions(spec.name))
            if count < spec.partitions:
                await self.admin.create_partitions({spec.name: NewPartitions(spec.partitions)})
                changes.append(f"grew {spec.name} from {count} to {spec.partitions} partitions")
        return changes

    async def configs(self, topics: list[str]) -> dict[str, dict[str, str]]:
        responses = await self.admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t) for t in topics]
        )
        out: dict[str, dict[str, str]] = {}
        for r in responses:
            out.update(_configs_of(r))
        return out

    async def describe(self, topics: list[str]) -> list[TopicInfo]:
        configs = await self.configs(topics)
        infos = []
        found = await self.admin.describe_topics(topics)
        for desc in sorted(found, key=lambda d: topics.index(d["topic"])):
            if desc.get("error_code"):
                raise LookupError(f"topic {desc['topic']}: error code {desc['error_code']}")
            name = desc["topic"]
            parts = desc["partitions"]
            infos.append(
                TopicInfo(
                    name=name,
                    partitions=len(parts),
                    replication_factor=max((len(p["replicas"]) for p in parts), default=0),
                    configs=configs.get(name, {}),
                    end_offsets=await self.end_offsets(name),
                )
            )
        return infos

    async def lag(self, group: str, topic: str) -> GroupLag:
        committed = await self._group_offsets(group)
        return GroupLag(
            group=group,
            topic=topic,
            committed={
                tp.partition: meta.offset
                for tp, meta in committed.items()
                if tp.topic == topic and meta.offset >= 0
            },
            end=await self.end_offsets(topic),
        )

    async def _group_offsets(self, group: str, wait_s: float = 5.0) -> dict[TopicPartition, Any]:
        """The group's committed offsets; the coordinator may be missing until first asked for
        (Kafka creates __consumer_offsets on the first request), so that alone is waited out."""
        retrying = STARTUP.async_retrying(
            (GroupCoordinatorNotAvailableError, CoordinatorNotAvailableError),
            deadline_s=wait_s,
            what=f"offsets of group {group}",
        )
        return dict(await retrying(self.admin.list_consumer_group_offsets, group))

    async def target_offsets(
        self, topic: str, to: str, at: datetime | None = None
    ) -> dict[int, int]:
        """Offsets for `earliest`, `latest` or `datetime` (the first record at or after `at`)."""
        tps = [TopicPartition(topic, p) for p in await self.partitions(topic)]
        if to == "earliest":
            found = await self.consumer.beginning_offsets(tps)
            return {tp.partition: o for tp, o in found.items()}
        ends = await self.consumer.end_offsets(tps)
        if to == "latest":
            return {tp.partition: o for tp, o in ends.items()}
        if to == "datetime" and at is not None:
            ts = int(at.timestamp() * 1000)
            found_t = await self.consumer.offsets_for_times(dict.fromkeys(tps, ts))
            return {
                tp.partition: (o.offset if o is not None else ends[tp]) for tp, o in found_t.items()
            }
        raise ValueError(f"reset target must be earliest, latest or datetime, not {to!r}")

    async def commit(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
        """Commit offsets for a group that has no live members (Kafka refuses it otherwise)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            tps = {TopicPartition(topic, p): o for p, o in offsets.items()}
            consumer.assign(list(tps))
            await consumer.commit(tps)
        finally:
            await stop_quietly(consumer)

    async def group_members(self, group: str) -> int:
        (resp,) = await self.admin.describe_consumer_groups([group])
        obj = resp.to_object()
        return sum(len(g.get("members", [])) for g in obj.get("groups", []))
