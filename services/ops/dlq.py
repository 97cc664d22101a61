"""Dead-letter topic tools: read it, pick records, re-inject them into their original topic.

`newswire dlq list|show|replay`. A replayed record carries the original key and bytes plus the
headers `newswire.replayed` (where in the DLQ it came from) and `newswire.attempts`, so a stage that
fails on it again dead-letters it with attempts + 1, and replay stops at `dlq_max_attempts`.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from schemas import DeadLetter
from schemas.deadletter import H_ATTEMPTS, H_REPLAYED
from services.common.kafka import client_kwargs, make_producer, stop_quietly
from services.common.settings import Settings
from services.common.topics import Topics


@dataclass(frozen=True)
class Entry:
    """One record of the dead-letter topic: where it is, and the dead letter (None if unreadable)."""

    partition: int
    offset: int
    letter: DeadLetter | None
    raw: bytes

    @property
    def ref(self) -> str:
        return f"{self.partition}@{self.offset}"


@dataclass(frozen=True)
class Reinjection:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    source: str


def parse_entry(partition: int, offset: int, value: bytes | None) -> Entry:
    try:
        letter = DeadLetter.model_validate_json(value or b"")
    except ValidationError:
        letter = None
    return Entry(partition, offset, letter, value or b"")


def select(
    entries: Iterable[Entry],
    *,
    refs: Sequence[str] = (),
    stage: str | None = None,
    error_class: str | None = None,
) -> list[tuple[str, DeadLetter]]:
    """(ref, dead letter) of readable entries matching every given filter (ref: `partition@offset`)."""
    wanted = set(refs)
    return [
        (e.ref, dl)
        for e in entries
        if (dl := e.letter) is not None
        and (not wanted or e.ref in wanted)
        and (stage is None or dl.stage == stage)
        and (error_class is None or dl.error_class == error_class)
    ]


def plan(
    chosen: Iterable[tuple[str, DeadLetter]], max_attempts: int, force: bool = False
) -> list[Reinjection]:
    """What to send back, in DLQ order; letters that failed `max_attempts` times stay unless forced."""
    out = []
    for ref, dl in chosen:
        if dl.attempts >= max_attempts and not force:
            continue
        out.append(
            Reinjection(
                topic=dl.topic,
                key=base64.b64decode(dl.key) if dl.key is not None else None,
                value=base64.b64decode(dl.value),
                headers=[
                    (H_REPLAYED, ref.encode()),
                    (H_ATTEMPTS, str(dl.attempts).encode()),
                ],
                source=ref,
            )
        )
    return out


async def read_all(settings: Settings) -> list[Entry]:
    """Every record of the dead-letter topic, from the beginning to the end offsets seen at start."""
    topic = Topics.from_settings(settings).deadletter
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    parts = sorted(p["partition"] for p in described.get("partitions", []))
    tps = [TopicPartition(topic, p) for p in parts]
    if not tps:
        return []
    consumer = AIOKafkaConsumer(
        **client_kwargs(settings), enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        entries: list[Entry] = []
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                entries += [parse_entry(tp.partition, r.offset, r.value) for r in records]
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        entries.sort(key=lambda e: (e.partition, e.offset))
        return entries
    finally:
        await stop_quietly(consumer)


async def reinject(settings: Settings, items: Sequence[Reinjection]) -> int:
    """Send each back to its original topic and wait for every acknowledgement."""
    producer: AIOKafkaProducer = make_producer(settings)
    await producer.start()
    try:
        futures = [
            await producer.send(r.topic, r.value, key=r.key, headers=r.headers) for r in items
        ]
        for fut in futures:
            await fut
    finally:
        await producer.stop()
    return len(items)
