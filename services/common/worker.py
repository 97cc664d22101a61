"""The faust shell shared by the three workers: decode -> pure step -> emit, with dead letters.

A stage is two callables: `compute(value) -> outputs` (pure; any exception is permanent and the record
goes to the dead-letter topic) and `emit(outputs)` (I/O; errors are transient and retried with backoff,
so the event is not acked until the output is durably written).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import faust

from services.common import logging as nlog
from services.common import metrics
from services.common.health import attach_to_faust
from services.common.kafka import dead_letter, dead_letter_headers
from services.common.settings import Settings
from services.common.topics import Topics

log = logging.getLogger(__name__)

T = TypeVar("T")


def make_app(service: str, settings: Settings) -> faust.App:
    """The faust app of one stage. uvloop is the event loop: the workers spend a fifth of their time
    in the loop and socket writes (py-spy, docs/benchmarks.md). Producer batches hold 256 KiB (the
    16 KiB default fits three 5 KB articles); linger stays 0 because every send is awaited."""
    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # before faust creates its loop
    datadir = settings.state_dir / "faust" / service
    datadir.mkdir(parents=True, exist_ok=True)
    brokers = [f"kafka://{h.strip()}" for h in settings.bootstrap.split(",") if h.strip()]
    app = faust.App(
        f"{settings.topic_prefix}-{service}",
        broker=brokers,
        key_serializer="raw",
        value_serializer="raw",
        web_enabled=False,
        topic_disable_leader=True,
        topic_replication_factor=settings.replication_factor,  # faust's own (changelog) topics
        producer_acks=-1,
        producer_linger=0.0,
        producer_max_batch_size=256 * 1024,
        consumer_auto_offset_reset="earliest",
        store="memory://",
        datadir=str(datadir),
        topic_partitions=settings.partitions,
        broker_commit_every=100,
        broker_commit_interval=1.0,
    )
    attach_to_faust(app, service, settings)  # /livez /readyz /metrics, heartbeat, lag gauge
    return app


class Stage(Generic[T]):
    """One worker stage: source topic -> compute -> sink topic (-> optional extra delivery)."""

    def __init__(
        self,
        *,
        app: faust.App,
        settings: Settings,
        name: str,
        source: str,
        sink: str,
        compute: Callable[[bytes], Sequence[T]],
        deliver: Callable[[T], Awaitable[object]] | None = None,
    ) -> None:
        self.app = app
        self.name = name
        self.compute = compute
        self.deliver = deliver
        self.topics = Topics.from_settings(settings)
        self.source = app.topic(source)
        self.sink = app.topic(sink)
        self.dlq = app.topic(self.topics.deadletter)
        self.processed = 0
        self.dead_lettered = 0
        app.agent(self.source, name=f"newswire.{name}")(self._agent)

    async def _agent(self, stream: Any) -> None:
        async for event in stream.events():
            msg = event.message
            nlog.new_record(msg.key)
            started = metrics.record_in(self.name)
            try:
                outputs = self.compute(msg.value)
            except Exception as exc:  # permanent: the record itself is bad
                await self._dead_letter(msg, exc)
                continue
            for out in outputs:
                await self._retry(functools.partial(self._emit, out))
            self.processed += 1
            metrics.record_done(self.name, started)

    async def output(self, out: T) -> None:
        """Emit an output produced outside the agent loop (e.g. a trend alert), with retries."""
        await self._retry(functools.partial(self._emit, out))

    async def _emit(self, out: T) -> None:
        model: Any = out
        nlog.add_ids(story_id=getattr(model, "story_id", None), alert_id=_alert_id(model))
        await self.send(self.sink, model.id, model.model_dump_json().encode())
        if self.deliver is not None:
            await self.deliver(out)
        metrics.output_written(self.name, out)

    async def _dead_letter(self, msg: Any, exc: BaseException) -> None:
        dl = dead_letter(
            stage=self.name,
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            key=msg.key,
            value=msg.value,
            error=exc,
        )
        log.warning(
            "%s: dead-lettering %s[%s]@%s: %s",
            self.name,
            msg.topic,
            msg.partition,
            msg.offset,
            dl.error,
        )
        await self._retry(
            lambda: self.send(
                self.dlq, msg.key, dl.model_dump_json().encode(), headers=dead_letter_headers(dl)
            )
        )
        self.dead_lettered += 1
        metrics.dead_lettered(self.name, exc)

    async def send(
        self,
        topic: Any,
        key: bytes | str | None,
        value: bytes,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Send and wait for the broker's acknowledgement."""
        k = key.encode() if isinstance(key, str) else key
        fut = await topic.send(key=k, value=value, headers=headers)
        await fut

    async def _retry(self, op: Callable[[], Awaitable[None]]) -> None:
        delay = 0.2
        while True:
            try:
                await op()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # transient: broker or Redis unavailable
                metrics.error(self.name, exc)
                log.warning(
                    "%s: output failed (%s: %s), retrying in %.1fs",
                    self.name,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)


def _alert_id(model: Any) -> str | None:
    return model.id if hasattr(model, "rule_id") else None


def run_worker(app: faust.App, loglevel: str = "info") -> None:
    """Run the faust worker in the foreground until SIGINT/SIGTERM."""
    worker = faust.Worker(app, loglevel=loglevel, quiet=True, logging_config=nlog.current_config())
    worker.execute_from_commandline()
