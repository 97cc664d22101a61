"""Publishes raw articles to Kafka and returns only after the broker acknowledged them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from schemas import RawArticle, StageTimes
from schemas.base import utcnow
from services.common.kafka import make_producer
from services.common.settings import Settings
from services.common.topics import Topics


class Publisher:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = Topics.from_settings(settings).raw
        self._producer: AIOKafkaProducer | None = None

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("Publisher.start() was not awaited")
        return self._producer

    async def start(self) -> None:
        self._producer = make_producer(self.settings)  # needs the running loop
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, articles: Sequence[RawArticle]) -> list[str]:
        """Stamp `ingested`, send all, wait for every ack (bounded by send_timeout_s)."""
        futures = []
        now = utcnow()
        for a in articles:
            stamped = a.model_copy(
                update={"times": StageTimes(**{**a.times.model_dump(), "ingested": now})}
            )
            futures.append(
                await self.producer.send(
                    self.topic, stamped.model_dump_json().encode(), key=a.id.encode()
                )
            )
        await asyncio.wait_for(asyncio.gather(*futures), timeout=self.settings.send_timeout_s)
        return [a.id for a in articles]
