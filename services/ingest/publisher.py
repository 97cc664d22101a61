"""Publishes raw articles to Kafka and returns only after the broker acknowledged them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import OutOfOrderSequenceNumber, UnknownProducerId

from schemas import RawArticle, StageTimes
from schemas.base import utcnow
from services.common.kafka import close_producer, make_producer
from services.common.settings import Settings
from services.common.topics import Topics

log = logging.getLogger(__name__)

# The idempotent producer's sequence state is broken: a new producer id fixes it; resending is safe
# because article ids are deterministic and consumers dedupe.
RESET_ERRORS = (OutOfOrderSequenceNumber, UnknownProducerId)
# Records stamped, serialised and queued between two yields to the event loop: a 4,000-article
# batch queued in one go held the loop (every other request, the feed poller, the probes) ~0.9 s.
YIELD_EVERY = 100


class PublishError(RuntimeError):
    """Kafka did not acknowledge every article within `send_timeout_s`; nothing is known durable."""


class Publisher:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = Topics.from_settings(settings).raw
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self.resets = 0

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("Publisher.start() was not awaited")
        return self._producer

    async def start(self) -> None:
        """Connect now if Kafka answers; if not, the first publish retries (and answers 503)."""
        try:
            await self._ensure()
        except PublishError as exc:
            log.warning("Kafka not reachable at start (%s); will retry on first publish", exc)

    async def _ensure(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = make_producer(self.settings)  # needs the running loop
                try:
                    async with asyncio.timeout(self.settings.send_timeout_s):
                        await producer.start()
                except Exception as exc:
                    await close_producer(producer, flush_s=0)
                    raise PublishError(f"cannot connect to Kafka: {type(exc).__name__}") from exc
                self._producer = producer
            return self._producer

    async def stop(self) -> None:
        """Flush and close within `send_timeout_s`; at once when the caller is being cancelled
        (a cancelled replay): aiokafka's own stop can wait on in-flight sends far longer."""
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await close_producer(producer, flush_s=self.settings.send_timeout_s)

    async def publish(self, articles: Sequence[RawArticle]) -> list[str]:
        """Stamp `ingested`, send all, wait for every ack (bounded by send_timeout_s)."""
        now = utcnow()
        stamped: list[RawArticle] = []
        for n, a in enumerate(articles, 1):
            times = StageTimes(**{**a.times.model_dump(), "ingested": now})
            stamped.append(a.model_copy(update={"times": times}))
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        try:
            await self._send_all(stamped)
        except RESET_ERRORS as exc:
            log.warning("producer state lost (%s); new producer, resending", type(exc).__name__)
            self.resets += 1
            await self.stop()
            await self._send_all(stamped)
        return [a.id for a in articles]

    async def _send_all(self, articles: Sequence[RawArticle]) -> None:
        producer = await self._ensure()
        timeout = self.settings.send_timeout_s

        async def enqueue() -> list[asyncio.Future[object]]:
            futures = []
            for n, a in enumerate(articles, 1):
                value = a.model_dump_json().encode()
                futures.append(await producer.send(self.topic, value, key=a.id.encode()))
                if n % YIELD_EVERY == 0:  # send() does not yield while its buffer has room
                    await asyncio.sleep(0)
            return futures

        # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation that
        # arrives as the inner call completes (CPython gh-86296), and a cancelled replay went on.
        try:
            async with asyncio.timeout(timeout):
                futures = await enqueue()
        except TimeoutError as exc:
            raise PublishError(f"Kafka did not take the records within {timeout:.0f}s") from exc
        # asyncio.wait, not wait_for: a late ack must not hit a cancelled future.
        done, pending = await asyncio.wait(futures, timeout=timeout)
        if pending:
            raise PublishError(
                f"Kafka did not acknowledge {len(pending)} record(s) in {timeout:.0f}s"
            )
        for fut in done:
            if (error := fut.exception()) is not None:
                raise error
