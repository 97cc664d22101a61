"""The two reference points a pipeline figure is read against.

- core: enrich + tag + evaluate per article in this process (the compute floor), once on models in memory
  and once from and to JSON bytes the way the workers see them (compute + serialization floor);
- pass-through: a raw aiokafka consume -> produce of the same raw records with no work, with the
  pipeline's producer settings (the transport's own limit), acks awaited per batch and per message.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.common.kafka import client_kwargs, compression, ensure_topics, make_producer
from services.common.settings import Settings


def core(items: Sequence[bytes], settings: Settings) -> dict[str, Any]:
    """Articles/s and CPU ms per article of the pure functions, single-threaded."""
    from services.alerts.core import StoryState
    from services.ingest.parse import from_mapping
    from services.offline.chain import Chain

    chain = Chain.load(settings)
    raws = [from_mapping(json.loads(i), source="bench") for i in items]
    raw_bytes = [r.model_dump_json().encode() for r in raws]
    out: dict[str, Any] = {"articles": len(raws)}

    def timed(fn: Any) -> dict[str, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        alerts = fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return {
            "per_s": round(len(raws) / wall, 1) if wall else 0.0,
            "cpu_ms_per_article": round(cpu / len(raws) * 1000, 3) if raws else 0.0,
            "alerts": alerts,
        }

    def models_only() -> int:
        chain.state = StoryState()  # each pass sees the articles as new, as the alerts worker would
        return sum(len(chain.run(r)[1]) for r in raws)

    def with_json() -> int:
        chain.state = StoryState()
        return sum(
            len(chain.alerts_bytes(chain.tag_bytes(chain.enrich_bytes(b)))) for b in raw_bytes
        )

    models_only()  # compile regexes, warm caches
    out["models"] = timed(models_only)
    out["with_json"] = timed(with_json)
    return out


async def passthrough(
    settings: Settings, offsets: Sequence[tuple[str, int, int, int]], per_message: bool
) -> dict[str, Any]:
    """Consume the given raw offset ranges and produce each record to a bench topic, no work."""
    sink = f"{settings.topic_prefix}.bench.passthrough.v1"
    await ensure_topics(settings, extra=[sink])
    ranges = {TopicPartition(t, p): (s, e) for t, p, s, e in offsets if e > s}
    total = sum(e - s for s, e in ranges.values())
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap,
        enable_auto_commit=False,
        group_id=f"newswire-bench-passthrough-{uuid.uuid4().hex[:6]}",
        max_poll_records=500,
    )
    producer = make_producer(settings)
    await consumer.start()
    await producer.start()
    try:
        consumer.assign(list(ranges))
        for tp, (start, _) in ranges.items():
            consumer.seek(tp, start)
        done = 0
        wall, cpu = time.perf_counter(), time.process_time()
        while done < total:
            batch = await consumer.getmany(timeout_ms=1000)
            futures = []
            for tp, records in batch.items():
                end = ranges[tp][1]
                for r in records:
                    if r.offset >= end:
                        continue
                    fut = await producer.send(sink, r.value, key=r.key)
                    if per_message:
                        await fut
                    else:
                        futures.append(fut)
                    done += 1
            await asyncio.gather(*futures)
            if batch:  # commit like a consumer group does, once per batch
                await consumer.commit()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        await producer.stop()
        await consumer.stop()
    return {
        "records": total,
        "ack": "per message" if per_message else "per batch",
        "per_s": round(total / wall, 1) if wall else 0.0,
        "cpu_s_per_1000": round(cpu / total * 1000, 3) if total else 0.0,
    }


async def warm_broker(settings: Settings, seconds: float) -> int:
    """Small produce, fetch and commit requests on a scratch topic for `seconds`, before the
    services start: a fresh broker's JVM compiles its request paths during the first tens of
    thousands of requests, which cost a 3,000-article run ~1.6 ms of Kafka CPU per article more
    than the same run on a warm broker (docs/benchmarks.md). Returns the records sent."""
    if seconds <= 0:
        return 0
    topic = f"{settings.topic_prefix}.bench.warmup.v1"
    await ensure_topics(settings, extra=[topic])
    kw = client_kwargs(settings)
    # the pipeline's compression, so the broker's decompress-and-validate path is compiled too
    producer = AIOKafkaProducer(
        **kw,
        acks="all",
        enable_idempotence=True,
        linger_ms=0,
        compression_type=compression(settings),
    )
    consumer = AIOKafkaConsumer(
        topic,
        **kw,
        group_id=f"newswire-bench-warmup-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
    )
    await producer.start()
    await consumer.start()
    deadline = time.monotonic() + seconds
    sent = 0

    async def produce() -> None:
        nonlocal sent
        while time.monotonic() < deadline:
            await producer.send_and_wait(topic, b"x" * 512, key=str(sent % 64).encode())
            sent += 1

    async def consume() -> None:
        while time.monotonic() < deadline:
            if await consumer.getmany(timeout_ms=100):
                await consumer.commit()

    try:
        await asyncio.gather(produce(), consume())
    finally:
        await producer.stop()
        await consumer.stop()
    return sent
