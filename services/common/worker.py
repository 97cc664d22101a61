"""The faust shell every worker stage runs on (enrichment, tagging, alerts and trends, as
services/common/topology.py lists them): a batch of records -> pure compute -> sends -> delivery,
with dead letters.

A `Stage` is given `compute(value) -> outputs` (or `compute_record(record)` when it needs more than
the value, as trends needs the timestamp): pure, so any exception is permanent and the record goes
to the dead-letter topic. Its outputs are sent to the stage's topic if it has one (or to a side
topic by type) and, with `deliver(outputs)`, handed on to Redis: I/O whose errors are transient and
retried with backoff (`retry_until_done`), so a record's offset is committed only once its outputs
are durable.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import faust
from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError
from pydantic import ValidationError

from services.common import logging as nlog
from services.common import metrics
from services.common.budget import Budgeted, Encoded
from services.common.faust_patches import guard_stale_fetches, own_offsets
from services.common.health import attach_to_faust
from services.common.kafka import (
    attempts_of,
    compression,
    dead_letter,
    dead_letter_headers,
    ssl_context,
)
from services.common.offsets import keeper_for
from services.common.retrying import RECONNECT
from services.common.settings import Settings
from services.common.topics import Topics
from services.common.topology import BY_NAME, group_id

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Errors that come from the record, not from the moment: sending or delivering it again gives the
# same error, so its record is dead-lettered with the reason (the partition moves on). Everything
# else (connections, timeouts, a broker or Redis away, states of a rebalance) is retried.
DETERMINISTIC: tuple[type[BaseException], ...] = (
    MessageSizeTooLargeError,  # over the producer's max_request_size (raised before the send)
    RecordTooLargeError,
    RecordListTooLargeError,  # the broker's message.max.bytes
    ValidationError,  # (a ValueError too)
    ValueError,
    TypeError,
    KeyError,
    UnicodeError,
)


def deterministic(exc: BaseException) -> bool:
    """Whether an output error is the record's own, to be dead-lettered rather than retried."""
    return isinstance(exc, DETERMINISTIC)


def broker_credentials(settings: Settings) -> Any:
    """faust's form of the Kafka security settings (SASL and/or TLS); None for plaintext."""
    ctx = ssl_context(settings)
    if settings.kafka_security_protocol.upper().startswith("SASL"):
        password = settings.kafka_sasl_password
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=password.get_secret_value() if password else None,
            ssl_context=ctx,
            mechanism=settings.kafka_sasl_mechanism,
        )
    return ctx


def make_app(service: str, settings: Settings) -> faust.App:
    """The faust app of one stage: one consumer group per service and topic prefix; agents run one
    event at a time (faust #606). uvloop is the event loop: the workers spend a fifth of their time
    in the loop and socket writes (py-spy, docs/benchmarks.md). Producer batches hold 256 KiB (the
    16 KiB default fits three 5 KB articles); linger stays 0 because every send is awaited."""
    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # before faust creates its loop
    datadir = settings.state_dir / "faust" / service
    datadir.mkdir(parents=True, exist_ok=True)
    brokers = [f"kafka://{h.strip()}" for h in settings.bootstrap.split(",") if h.strip()]
    session = settings.kafka_session_timeout_s
    app = faust.App(
        group_id(settings, service),
        broker=brokers,
        broker_credentials=broker_credentials(settings),
        key_serializer="raw",
        value_serializer="raw",
        web_enabled=False,
        topic_disable_leader=True,
        topic_replication_factor=settings.replication_factor,  # faust's own (changelog) topics
        producer_acks=-1,
        producer_linger=0.0,
        producer_max_batch_size=256 * 1024,
        producer_compression_type=compression(settings),
        consumer_auto_offset_reset="earliest",
        store="memory://",
        datadir=str(datadir),
        topic_partitions=settings.partitions,
        # Offsets are committed by the timer only (every second). faust's fetcher also commits
        # inline every N acks; that commit can block it across a whole rebalance, after which it
        # passes on the record it held from before and sets the read offset to it, so the re-fetch
        # from the committed offset below it is dropped (faust/transport/consumer.py:1216-1223).
        broker_commit_every=sys.maxsize,
        broker_commit_interval=1.0,
        broker_session_timeout=session,
        broker_heartbeat_interval=max(1.0, session / 3),
        broker_rebalance_timeout=max(30.0, session * 2),
        # Processing is idempotent (deterministic ids, Redis dedupe) and agents never raise, so a
        # rebalance or shutdown need not wait for an in-flight event: it is not acked, hence not
        # committed, and is processed again. Waiting could last forever while its send is retried.
        stream_wait_empty=False,
    )
    guard_stale_fetches()  # faust hands out records fetched before a rebalance (see there)
    attach_to_faust(app, service, settings)  # /livez /readyz /metrics, heartbeat, lag gauge
    return app


def _headers(msg: Any) -> list[tuple[str, bytes]]:
    raw = msg.headers or []
    items = raw.items() if isinstance(raw, dict) else raw
    return [(str(k), bytes(v or b"")) for k, v in items]


class Stage(Generic[T]):
    """One worker stage: source topic -> compute -> sink topic (-> optional extra delivery).

    The agent never raises: an exception escaping a faust agent acks (drops) the event. Permanent
    errors (the record) go to the dead-letter topic, transient ones (broker, Redis) are retried
    until they succeed, and an offset is committed only once the record is handled (`_agent`).
    """

    def __init__(
        self,
        *,
        app: faust.App,
        settings: Settings,
        name: str,
        compute: Callable[[bytes], Sequence[T]] | None = None,
        compute_record: Callable[[Any], Sequence[T]] | None = None,
        deliver: Callable[[Sequence[T]], Awaitable[object]] | None = None,
        side_topics: Mapping[type, str] | None = None,
        source: str | None = None,
        sink: str | None = None,
        count_outputs: bool = True,
    ) -> None:
        """`source` and `sink` default to the stage's main input and output in the topology; a
        stage whose outputs are only delivered (trends) passes `sink=""`. `compute_record` is
        `compute` for a stage that needs more of the record than its value (its timestamp)."""
        if (compute is None) == (compute_record is None):
            raise ValueError("give one of compute and compute_record")
        self.app = app
        self.name = name
        self.compute = compute
        self.compute_record = compute_record
        self.deliver = deliver
        self.count_outputs = count_outputs
        self.send_timeout_s = settings.send_timeout_s
        # The pure compute in a forked child with a CPU budget per record (services/common/budget.py),
        # for the stages that only send their outputs: a delivery needs the models themselves, and
        # `compute_record` may keep state (trends); those compute in the worker.
        budget = settings.record_budget_s
        isolated = compute is not None and deliver is None and budget > 0
        self.budgeted = Budgeted(compute, budget) if isolated and compute is not None else None
        self.topics = Topics.from_settings(settings)
        spec = BY_NAME.get(name)
        if source is None or sink is None:
            if spec is None:
                raise ValueError(f"{name!r} is not in the topology: give source and sink")
            source = source if source is not None else getattr(self.topics, spec.consumes[0])
            sink = sink if sink is not None else getattr(self.topics, spec.produces[0])
        own_offsets()
        self.source = app.topic(
            source, acks=False
        )  # the worker commits (services/common/offsets.py)
        self.offsets = keeper_for(app, source)
        self.sink = app.topic(sink) if sink else None
        # Outputs of these types go to their own topic (not delivered, not counted as outputs):
        # e.g. the alerts stage's trend terms, so no second agent has to decode its input again.
        self.side = {t: app.topic(name) for t, name in (side_topics or {}).items()}
        self.dlq = app.topic(self.topics.deadletter)
        self.batch_max = settings.worker_batch_max
        self.processed = 0
        self.dead_lettered = 0
        self.retries = 0
        app.agent(self.source, name=f"{settings.topic_prefix}.{name}", concurrency=1)(self._agent)

    async def _agent(self, stream: Any) -> None:
        """A batch is what is already buffered (one record when the stream is quiet, up to
        `worker_batch_max` under load), with one wait for all the broker's acks. faust's acks are
        off for the source topic: the `OffsetKeeper` takes a record only if it is the next offset
        of its partition in this generation (a missing one stalls the partition and faust's
        fetcher seeks it back), and moves the partition's watermark, which is what gets committed, only once the batch's outputs (or dead letters) are durable. A crash, a
        cancellation or a rebalance mid-batch leaves it uncommitted, to be processed again.
        `worker_batch_max=1` is the same loop, one record per batch."""
        queue = getattr(stream.channel, "queue", None)
        batch: list[Any] = []
        async for event in stream.events():
            if self.offsets.accept(event.message):
                batch.append(event.message)
            if len(batch) < self.batch_max and queue is not None and not queue.empty():
                continue  # more is already here: take it into this batch
            if batch:
                await self.handle(batch)
                self.offsets.handled(batch)
                batch.clear()

    async def handle(self, msgs: Sequence[Any]) -> None:
        """Process records to the end: every output durable, or the record's dead letter durable.

        A batch's outputs go out together; when that fails with an error of the records'
        own (`deterministic`), each record's outputs are tried alone and only the records that
        fail again are dead-lettered."""
        done: list[tuple[Any, list[T], float]] = []
        for msg in msgs:
            nlog.new_record(msg.key)
            began = metrics.record_in(self.name)
            try:
                outs = await self._compute(msg)
            except Exception as exc:  # permanent: the record itself is bad (or over budget)
                await self._dead_letter(msg, exc)
                continue
            done.append((msg, outs, began))
        failed = await self._emit([o for _, outs, _ in done for o in outs])
        if failed is not None and len(done) > 1:
            alone = [(m, outs, b, await self._emit(outs)) for m, outs, b in done]
        else:
            alone = [(m, outs, b, failed) for m, outs, b in done]
        for msg, _, began, error in alone:
            if error is not None:
                await self._dead_letter(msg, error)
                continue
            self.processed += 1
            metrics.record_done(self.name, began)

    async def _compute(self, msg: Any) -> list[T]:
        if self.compute_record is not None:
            return list(self.compute_record(msg))
        if self.budgeted is not None:
            return await self.budgeted(msg.value)  # type: ignore[return-value]  # Encoded
        assert self.compute is not None
        return list(self.compute(msg.value))

    async def _emit(self, outputs: Sequence[T]) -> BaseException | None:
        """Every output durable (transient errors retried until they pass), or the deterministic
        error that stopped them."""
        if not outputs:
            return None
        main = [out for out in outputs if _kind(out) not in self.side]
        sent = outputs if self.sink is not None else [o for o in outputs if _kind(o) in self.side]
        if sent and (failed := await self._retry(functools.partial(self.send_all, sent))):
            return failed
        deliver = self.deliver is not None and main  # separate retries: Kafka is not re-sent
        if deliver and (failed := await self._retry(functools.partial(self._deliver, main))):
            return failed
        for out in main if self.count_outputs else ():
            metrics.output_written(self.name, out)
        return None

    async def send_all(self, outs: Sequence[T]) -> None:
        """Every output to its topic, then one wait for all acknowledgements; a retry sends the
        whole batch again (consumers drop the repeats by id)."""
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation that
        # arrives as the inner call completes (gh-86296), and faust cancels agents on rebalance.
        async with asyncio.timeout(self.send_timeout_s):
            futures = await self._enqueue(outs)
        await wait_acked(futures, self.send_timeout_s)

    async def _enqueue(self, outs: Sequence[T]) -> list[Any]:
        """Hands every output to the producer without yielding to its sender in between (one
        timeout around all, in this task: a task per send would be a switch each, and the sender
        would make a produce request of every record), so a batch goes out in one request per broker."""
        futures = []
        for out in outs:
            model: Any = out
            topic = self.side.get(_kind(out), self.sink)
            assert topic is not None  # outputs without a sink are only delivered
            key = getattr(model, "partition_key", None) or model.id
            payload = out.payload if isinstance(out, Encoded) else model.model_dump_json().encode()
            futures.append(await topic.send(key=key.encode(), value=payload))
        return futures

    async def _deliver(self, outs: Sequence[T]) -> None:
        """All of a batch's outputs at once (one Redis round trip); a retry repeats them all,
        which the delivery's dedupe by id absorbs."""
        assert self.deliver is not None
        if len(outs) == 1:  # the ids of what is being delivered, for the log lines of a failure
            model: Any = outs[0]
            nlog.add_ids(story_id=getattr(model, "story_id", None), alert_id=_alert_id(model))
        await self.deliver(outs)

    async def _dead_letter(self, msg: Any, exc: BaseException) -> None:
        send = functools.partial(
            send_dead_letter, self.dlq, self.name, msg, exc, self.send_timeout_s
        )
        await retry_until_done(self.name, send, on_error=self._failed)  # a dead letter is small
        self.dead_lettered += 1
        metrics.dead_lettered(self.name, exc)

    def _failed(self, exc: Exception) -> None:
        self.retries += 1
        metrics.error(self.name, exc)

    async def _retry(self, op: Callable[[], Awaitable[None]]) -> BaseException | None:
        """`op` retried while it fails transiently; the deterministic error that stops it."""
        return await retry_transient(self.name, op, on_error=self._failed)


async def send_dead_letter(
    dlq: Any, stage: str, msg: Any, exc: BaseException, timeout: float
) -> None:
    """The record as it came, with where it came from and why it failed, to the dead-letter topic."""
    dl = dead_letter(
        stage=stage,
        topic=msg.topic,
        partition=msg.partition,
        offset=msg.offset,
        timestamp_ms=int(msg.timestamp * 1000) if msg.timestamp is not None else None,
        key=msg.key,
        value=msg.value,
        error=exc,
        attempts=attempts_of(_headers(msg)) + 1,
    )
    log.warning(
        "%s: dead-lettering %s[%s]@%s (%s): %s",
        stage,
        msg.topic,
        msg.partition,
        msg.offset,
        dl.error_class,
        dl.error[:200],
    )
    payload = dl.model_dump_json().encode()
    await send_acked(dlq, msg.key, payload, dead_letter_headers(dl), timeout=timeout)


async def send_acked(
    topic: Any,
    key: bytes | str | None,
    value: bytes,
    headers: list[tuple[str, bytes]] | None = None,
    *,
    timeout: float,
) -> None:
    """Send with faust and wait for the broker's acknowledgement, bounded so an outage becomes a
    retry instead of a hang."""
    k = key.encode() if isinstance(key, str) else key
    async with asyncio.timeout(timeout):  # not wait_for: see Stage.send_all
        fut = await topic.send(key=k, value=value, headers=headers)
    await wait_acked([fut], timeout)


async def wait_acked(futures: Sequence[Any], timeout: float) -> None:
    """Wait for the broker's acknowledgement of every send; the first failure is raised."""
    # asyncio.wait, not wait_for: cancelling faust's FutureMessage breaks its producer buffer.
    _, pending = await asyncio.wait(set(futures), timeout=timeout)
    if pending:
        raise TimeoutError(f"{len(pending)} sends not acknowledged within {timeout:.0f}s")
    for fut in futures:
        fut.result()


async def retry_until_done(
    name: str,
    op: Callable[[], Awaitable[R]],
    on_error: Callable[[Exception], None] | None = None,
) -> R:
    """Every error retried with the RECONNECT backoff for as long as it takes: an exception
    escaping a faust agent would drop or wedge its event."""
    return await _retrying(name, op, lambda exc: False, on_error)


async def retry_transient(
    name: str,
    op: Callable[[], Awaitable[None]],
    on_error: Callable[[Exception], None] | None = None,
) -> BaseException | None:
    """`op` retried with the RECONNECT backoff while it fails transiently; None once it passed,
    or the first deterministic error (`deterministic`), which retrying would only repeat."""

    async def run() -> BaseException | None:
        await op()
        return None

    try:
        return await _retrying(name, run, deterministic, on_error)
    except Exception as exc:  # raised by _retrying only when deterministic
        log.warning("%s: output failed for good (%s: %s)", name, type(exc).__name__, exc)
        return exc


async def _retrying(
    name: str,
    op: Callable[[], Awaitable[R]],
    give_up: Callable[[BaseException], bool],
    on_error: Callable[[Exception], None] | None,
) -> R:
    waits = RECONNECT.iter_delays()
    while True:
        try:
            return await op()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if give_up(exc):
                raise
            if on_error is not None:
                on_error(exc)
            delay = next(waits)
            log.warning(
                "%s: output failed (%s: %s), retrying in %.1fs",
                name,
                type(exc).__name__,
                str(exc)[:200],
                delay,
            )
            await asyncio.sleep(delay)


def every(
    app: faust.App, name: str, interval_s: float, job: Callable[[], Awaitable[None]]
) -> Callable[[], Awaitable[None]]:
    """A periodic job of a worker that never crashes it: faust ends the whole worker when a timer
    raises (seen in the chaos campaign, seed 3028: the alerts worker's digest flush met a Redis
    restart, and the stage stopped for good). A failed run is logged and counted; the next tick
    tries again."""

    async def guarded() -> None:
        try:
            await job()
        except Exception as exc:
            metrics.error(name, exc)
            log.warning("%s: %s failed (%s: %s)", name, job.__name__, type(exc).__name__, exc)

    guarded.__name__ = guarded.__qualname__ = job.__name__  # faust names the timer by it
    app.timer(interval=interval_s)(guarded)
    return guarded


def _kind(out: object) -> type:
    """An output's model class, also when the compute child sent it encoded."""
    return out.kind if isinstance(out, Encoded) else type(out)


def _alert_id(model: Any) -> str | None:
    return model.id if hasattr(model, "rule_id") else None


def run_worker(app: faust.App, loglevel: str = "info") -> None:
    """Run the faust worker in the foreground until SIGINT/SIGTERM.

    What start-up loaded (gazetteer, automata, lexicons, models: hundreds of thousands of objects
    that live as long as the process) is moved out of the garbage collector's reach first, so a
    full collection does not walk it again every few hundred records."""
    worker = faust.Worker(app, loglevel=loglevel, quiet=True, logging_config=nlog.current_config())
    gc.collect()
    gc.freeze()
    worker.execute_from_commandline()
