"""Thin aiokafka helpers: topic creation, the idempotent producer, dead-letter records."""

from __future__ import annotations

import base64
import contextlib
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas import DeadLetter
from services.common.settings import Settings
from services.common.topics import Topics

log = logging.getLogger(__name__)


async def ensure_topics(settings: Settings, extra: Sequence[str] = ()) -> list[str]:
    """Create the pipeline topics with explicit partition counts; broker auto-create stays off."""
    names = [*Topics.from_settings(settings).all(), *extra]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [NewTopic(n, settings.partitions, settings.replication_factor) for n in missing]
                )
            log.info("created topics %s", missing)
        return missing
    finally:
        await admin.close()


def make_producer(settings: Settings) -> AIOKafkaProducer:
    """acks=all with idempotence: a retried send is never written twice. Batches of up to 256 KiB
    (the 16 KiB default holds three 5 KB articles), so a POST of many articles is a few requests."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=256 * 1024,
        request_timeout_ms=int(settings.send_timeout_s * 1000),
    )


def dead_letter(
    *,
    stage: str,
    topic: str,
    partition: int | None,
    offset: int | None,
    key: bytes | None,
    value: bytes | None,
    error: BaseException,
) -> DeadLetter:
    """Keeps the original bytes (base64) and where they came from, with the reason."""
    return DeadLetter(
        stage=stage,
        topic=topic,
        partition=partition,
        offset=offset,
        key=base64.b64encode(key).decode() if key is not None else None,
        value=base64.b64encode(value or b"").decode(),
        error_class=type(error).__name__,
        error=str(error)[:2000],
    )


def dead_letter_headers(dl: DeadLetter) -> list[tuple[str, bytes]]:
    return [
        ("newswire.stage", dl.stage.encode()),
        ("newswire.original.topic", dl.topic.encode()),
        ("newswire.original.partition", str(dl.partition).encode()),
        ("newswire.original.offset", str(dl.offset).encode()),
        ("newswire.error.class", dl.error_class.encode()),
        ("newswire.error.message", dl.error[:500].encode()),
    ]
