"""Thin aiokafka helpers: connection security, topic creation, the idempotent producer, dead letters."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import socket
import ssl
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from schemas import DeadLetter
from schemas.deadletter import (
    H_ATTEMPTS,
    H_ERROR,
    H_ERROR_CLASS,
    H_OFFSET,
    H_PARTITION,
    H_STAGE,
    H_TIMESTAMP,
    H_TOPIC,
)
from services.common.retrying import STARTUP
from services.common.settings import Settings
from services.common.topics import Topics

log = logging.getLogger(__name__)

# What a start-up wait outlasts: the broker or the network away (aiokafka's errors are KafkaError).
KAFKA_TRANSIENT: tuple[type[BaseException], ...] = (KafkaError, OSError)


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """A verifying TLS context when the protocol asks for SSL; None for plaintext."""
    if "SSL" not in settings.kafka_security_protocol.upper():
        return None
    ctx = ssl.create_default_context(
        cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    )
    if settings.kafka_ssl_certfile:
        ctx.load_cert_chain(
            str(settings.kafka_ssl_certfile),
            keyfile=str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None,
        )
    return ctx


def compression(settings: Settings) -> str | None:
    """The producers' compression codec (aiokafka's and faust's name), None for none."""
    return None if settings.kafka_compression == "none" else settings.kafka_compression


def client_kwargs(settings: Settings) -> dict[str, Any]:
    """Bootstrap and security options shared by every aiokafka client (producer, consumer, admin)."""
    kw: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap,
        "security_protocol": settings.kafka_security_protocol.upper(),
    }
    if (ctx := ssl_context(settings)) is not None:
        kw["ssl_context"] = ctx
    if kw["security_protocol"].startswith("SASL"):
        kw["sasl_mechanism"] = settings.kafka_sasl_mechanism
        kw["sasl_plain_username"] = settings.kafka_sasl_username
        kw["sasl_plain_password"] = (
            settings.kafka_sasl_password.get_secret_value()
            if settings.kafka_sasl_password
            else None
        )
    return kw


async def ensure_topics(settings: Settings, extra: Sequence[str] = ()) -> list[str]:
    """Create the pipeline topics with explicit partition counts; broker auto-create stays off."""
    names = [*Topics.from_settings(settings).all(), *extra]
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
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


async def wait_for_topics(settings: Settings, wait_s: float = 300.0) -> None:
    """ensure_topics, retried while the broker is away: a service started during an outage waits
    instead of exiting (no restart loop). Only Kafka's and the network's errors are waited out."""
    async for attempt in STARTUP.async_retrying(
        KAFKA_TRANSIENT, deadline_s=wait_s, what="Kafka topics"
    ):
        with attempt:
            await ensure_topics(settings)


def wait_for_broker(settings: Settings, wait_s: float = 300.0) -> None:
    """Block until a bootstrap server accepts a connection: a worker loads its data for seconds
    after `wait_for_topics`, and faust exits on a failed bootstrap, so a broker that went away
    meanwhile (chaos seed 3018: Kafka killed as tagging restarted) must be waited for again right
    before faust starts. Synchronous on purpose: no event loop may exist before faust's."""
    hosts = [h.strip().rsplit(":", 1) for h in settings.bootstrap.split(",") if h.strip()]

    def connect() -> None:
        for host, port in hosts:
            with contextlib.suppress(OSError):
                socket.create_connection((host, int(port)), timeout=1.0).close()
                return
        raise ConnectionError(f"no Kafka broker reachable at {settings.bootstrap}")

    for attempt in STARTUP.retrying((ConnectionError,), deadline_s=wait_s, what="Kafka broker"):
        with attempt:
            connect()


def make_producer(settings: Settings) -> AIOKafkaProducer:
    """acks=all with idempotence: a retried send is never written twice. Batches of up to 256 KiB
    (the 16 KiB default holds three 5 KB articles), so a POST of many articles is a few requests:
    its sends are queued without a yield in between, so no linger is needed to batch them, and a
    single article goes out at once (a 5 ms linger was 5 ms of every article's latency)."""
    return AIOKafkaProducer(
        **client_kwargs(settings),
        acks="all",
        enable_idempotence=True,
        linger_ms=0,
        max_batch_size=256 * 1024,
        compression_type=compression(settings),
        request_timeout_ms=int(settings.send_timeout_s * 1000),
    )


async def stop_quietly(client: Any) -> None:
    """`client.stop()` of an aiokafka consumer, without aiokafka's own CancelledError: a consumer
    without a group awaits, when it stops, a task it has just cancelled, and a task cancelled
    before it first ran ends in CancelledError, which reaches the caller (aiokafka 0.14,
    `NoGroupCoordinator.close`; seen when the chaos campaign read offsets with Kafka away). The
    caller's own cancellation is raised as ever."""
    try:
        await client.stop()
    except asyncio.CancelledError:
        me = asyncio.current_task()
        if me is None or me.cancelling():
            raise


async def close_producer(producer: AIOKafkaProducer, flush_s: float) -> None:
    """Stop a producer in bounded time, whatever the broker does.

    aiokafka's `stop()` waits for its queued batches to be flushed, then cancels its sender task,
    which on cancellation awaits every in-flight produce request (`Sender._sender_routine`): with
    the broker frozen or gone that lasts a request timeout or more, with its retries. So: flush for
    at most `flush_s` (not at all when the calling task is being cancelled: Ctrl-C on a replay must
    not wait for the broker), then stop; if that does not finish in time, abort: the unsent
    batches fail (their futures get a `KafkaError`), the sender task is cancelled again until it
    ends (each cancellation reaches the produce request it awaits), the connections are closed."""
    me = asyncio.current_task()
    flush_s = 0.0 if me is not None and me.cancelling() else flush_s
    try:
        async with asyncio.timeout(flush_s):
            await producer.flush()
            await producer.stop()
        return
    except TimeoutError:
        log.warning("Kafka producer not flushed within %.1fs; aborting its sends", flush_s)
    except Exception as exc:
        log.warning("Kafka producer stop failed (%s); aborting its sends", type(exc).__name__)
    await _abort_producer(producer)


async def _abort_producer(producer: AIOKafkaProducer, wait_s: float = 2.0) -> None:
    """aiokafka 0.14 internals: fail what is queued, cancel the sender and its requests, close."""
    from aiokafka.errors import KafkaError

    p: Any = producer
    p._closed = True
    with contextlib.suppress(Exception):
        p._message_accumulator.fail_all(KafkaError("producer aborted"))
    sender = getattr(getattr(p, "_sender", None), "sender_task", None)
    deadline = time.monotonic() + wait_s
    while sender is not None and not sender.done() and time.monotonic() < deadline:
        sender.cancel()  # again each time: the routine awaits one in-flight request per node
        await asyncio.wait({sender}, timeout=0.05)
    if sender is not None and sender.done() and not sender.cancelled():
        with contextlib.suppress(BaseException):
            sender.result()  # retrieved, so asyncio does not log it as never retrieved
    with contextlib.suppress(Exception):
        async with asyncio.timeout(max(0.1, deadline - time.monotonic())):
            await p.client.close()  # (a stand-in without one: nothing to close)


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode() if data is not None else None


def dead_letter(
    *,
    stage: str,
    topic: str,
    partition: int | None,
    offset: int | None,
    key: bytes | None,
    value: bytes | None,
    error: BaseException,
    timestamp_ms: int | None = None,
    attempts: int = 1,
) -> DeadLetter:
    """Keeps the original bytes (base64) and where they came from, with the reason."""
    return DeadLetter(
        stage=stage,
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=(
            datetime.fromtimestamp(timestamp_ms / 1000, UTC) if timestamp_ms is not None else None
        ),
        key=_b64(key),
        value=_b64(value or b"") or "",
        error_class=type(error).__name__,
        error=str(error)[:2000],
        attempts=attempts,
    )


def dead_letter_headers(dl: DeadLetter) -> list[tuple[str, bytes]]:
    return [
        (H_STAGE, dl.stage.encode()),
        (H_TOPIC, dl.topic.encode()),
        (H_PARTITION, str(dl.partition).encode()),
        (H_OFFSET, str(dl.offset).encode()),
        (H_TIMESTAMP, (dl.timestamp.isoformat() if dl.timestamp else "None").encode()),
        (H_ERROR_CLASS, dl.error_class.encode()),
        (H_ERROR, dl.error[:500].encode()),
        (H_ATTEMPTS, str(dl.attempts).encode()),
    ]


def attempts_of(headers: Sequence[tuple[str, bytes]] | None) -> int:
    """How many times a record has failed before: 0 for a fresh one, N for a replayed dead letter."""
    for k, v in headers or ():
        if k == H_ATTEMPTS:
            with contextlib.suppress(ValueError):
                return int(v)
    return 0


async def topic_partitions(consumer: Any, names: list[str]) -> dict[str, list[Any]]:
    """Partitions of each topic, from fresh cluster metadata (missing topics map to []).

    `consumer.topics()` fetches metadata but does not keep it, so `partitions_for_topic` stays
    empty for topics the consumer is not assigned; the fetched cluster object is used instead.
    """
    from aiokafka import TopicPartition

    cluster = await consumer._client.fetch_all_metadata()
    return {
        n: [TopicPartition(n, p) for p in sorted(cluster.partitions_for_topic(n) or ())]
        for n in names
    }
