"""The imperative shell of `newswire bench`: publish, observe the pipeline from outside, sample processes.

Observation is passive: the bench reads the tagged and alerts topics without a consumer group, subscribes
to the all-alerts Redis channel, asks the broker for consumer-group offsets (lag) and reads /proc of the
service processes. Latency comes from the stage timestamps in the records (`times`), all on one clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import aiohttp
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas.ids import article_id
from services.bench import stats
from services.common.settings import Settings
from services.common.topics import RedisKeys, Topics
from services.common.topology import WORKERS, group_id, inputs

log = logging.getLogger(__name__)
TICKS = os.sysconf("SC_CLK_TCK")

STAGES = WORKERS  # the stages with a consumer group


@dataclass(frozen=True)
class Options:
    count: int = 1000
    rate: float = 0.0  # articles/s; 0 = as fast as the pipeline takes them
    seed: int = 0
    files: tuple[Path, ...] = ()
    via: Literal["http", "kafka"] = "http"
    batch: int = 100  # articles per POST when publishing as fast as possible
    concurrency: int = 4  # POSTs in flight
    warmup: int = 20
    broker_warmup_s: float = 15.0  # small requests to the broker before the services start
    timeout: float = 600.0
    sample_interval: float = 0.5
    core_sample: int = 300
    passthrough: bool = True
    relay: bool = True  # the no-work worker relay (services/bench/relay.py)
    fused: bool = False  # enrichment and tagging in one process (services/bench/fused.py)
    tag: str = "bench"


@dataclass
class Observed:
    """Everything seen during one run, keyed by article id; filled by the observer tasks."""

    published: dict[str, float] = field(default_factory=dict)  # id -> publish-ack wall time
    tagged: dict[str, dict[str, float]] = field(default_factory=dict)  # id -> stage times + seen
    alerts_kafka: dict[str, dict[str, float]] = field(default_factory=dict)  # alert id -> times
    alerts_redis: dict[str, dict[str, float]] = field(default_factory=dict)  # alert id -> times
    lag: list[dict[str, float]] = field(default_factory=list)  # {"t":..., group: lag}
    cpu: list[dict[str, float]] = field(default_factory=list)  # {"t":..., process: cpu s}


# ---- processes ---------------------------------------------------------------------------------
def read_proc(pid: int) -> tuple[float, int | None] | None:
    """(CPU seconds, peak RSS kB) of a live process, None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return stats.cpu_seconds(stat, TICKS), stats.status_kb(status, "VmHWM")


def sample_cpu(pids: Mapping[str, int]) -> dict[str, float]:
    out = {}
    for name, pid in pids.items():
        got = read_proc(pid)
        if got is not None:
            out[name] = got[0]
    return out


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def hardware() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError):
        mem_kb = stats.status_kb(Path("/proc/meminfo").read_text(), "MemTotal") or 0
    return {"cpu": model, "cores": os.cpu_count(), "memory_gb": round(mem_kb / 1024**2, 1)}


# ---- observers -----------------------------------------------------------------------------------
async def _end_offsets(consumer: AIOKafkaConsumer, topic: str) -> dict[TopicPartition, int]:
    # consumer.topics() refreshes a copy of the metadata, not the one partitions_for_topic reads
    cluster = await consumer._client.fetch_all_metadata()
    parts = cluster.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in sorted(parts)]
    return dict(await consumer.end_offsets(tps)) if tps else {}


async def observe_topics(
    settings: Settings, starts: dict[TopicPartition, int], obs: Observed, ids: set[str]
) -> None:
    """Reads tagged and alerts records from `starts` on; keeps the stage times of ours."""
    topics = Topics.from_settings(settings)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap, enable_auto_commit=False, max_poll_records=2000
    )
    await consumer.start()
    try:
        consumer.assign(list(starts))
        for tp, offset in starts.items():
            consumer.seek(tp, offset)
        while True:
            batch = await consumer.getmany(timeout_ms=200)
            seen = time.time()
            for tp, records in batch.items():
                for r in records:
                    doc = json.loads(r.value or b"{}")
                    if tp.topic == topics.tagged:
                        aid = doc.get("article", {}).get("id")
                        if aid in ids:
                            times = doc["article"].get("times", {})
                            obs.tagged[aid] = {**stats.stage_times(times), "seen": seen}
                    elif doc.get("article_id") in ids:
                        obs.alerts_kafka[doc["id"]] = {
                            **stats.stage_times(doc.get("times", {})),
                            "seen": seen,
                        }
    finally:
        await consumer.stop()


async def observe_redis(
    settings: Settings, obs: Observed, ids: set[str], ready: asyncio.Event
) -> None:
    """A real subscriber on the all-alerts channel; the receive time closes ingest -> Redis."""
    client = aioredis.Redis.from_url(settings.redis)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(RedisKeys(settings.redis_prefix).all_alerts)
        ready.set()
        while True:
            msg = await pubsub.get_message(timeout=0.5)
            if msg is None or msg.get("type") != "message":
                continue
            received = time.time()
            doc = json.loads(msg["data"])
            if doc.get("article_id") in ids:
                obs.alerts_redis[doc["id"]] = {
                    **stats.stage_times(doc.get("times", {})),
                    "received": received,
                }
    finally:
        with contextlib.suppress(Exception):
            await pubsub.aclose()  # type: ignore[no-untyped-call]
        await client.aclose()


def lag_groups(fused: bool) -> dict[str, str]:
    """Stage -> the `Topics` attribute its group reads, for the stages this run starts."""
    from services.bench import fused as fused_worker

    groups = {stage: inputs(stage)[0] for stage in STAGES}
    if not fused:
        return groups
    kept = {s: t for s, t in groups.items() if s not in fused_worker.REPLACES}
    return {fused_worker.SERVICE: "raw", **kept}


async def group_lag(
    admin: AIOKafkaAdminClient,
    consumer: AIOKafkaConsumer,
    settings: Settings,
    groups: Mapping[str, str],
) -> dict[str, float]:
    """Records not yet committed by each stage's consumer group, summed over partitions."""
    topics = Topics.from_settings(settings)
    out: dict[str, float] = {}
    for stage, attr in groups.items():
        group, topic = group_id(settings, stage), getattr(topics, attr)
        ends = await _end_offsets(consumer, topic)
        committed = await admin.list_consumer_group_offsets(group, partitions=list(ends))
        lag = 0
        for tp, end in ends.items():
            meta = committed.get(tp)
            lag += max(0, end - (meta.offset if meta is not None and meta.offset >= 0 else 0))
        out[stage] = lag
    return out


async def sample_loop(
    settings: Settings,
    pids: Mapping[str, int],
    obs: Observed,
    interval: float,
    groups: Mapping[str, str],
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        while True:
            now = time.time()
            obs.cpu.append({"t": now, **sample_cpu(pids)})
            try:
                obs.lag.append({"t": now, **await group_lag(admin, consumer, settings, groups)})
            except Exception as exc:  # a sample lost is not a failed run
                log.debug("lag sample failed: %s", exc)
            await asyncio.sleep(interval)
    finally:
        await consumer.stop()
        await admin.close()


async def group_members(settings: Settings, group: str) -> int:
    """Members of a stable consumer group (0 while it rebalances)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        for resp in await admin.describe_consumer_groups([group]):
            for g in resp.groups:
                if g[1] == group and g[2] == "Stable":
                    return len(g[5])
        return 0
    finally:
        await admin.close()


# ---- publishing ----------------------------------------------------------------------------------
class Sender:
    """Publishes JSON articles through the ingest HTTP API (default) or straight to Kafka."""

    def __init__(self, settings: Settings, via: str) -> None:
        self.settings = settings
        self.via = via
        self._http: aiohttp.ClientSession | None = None
        self._publisher: Any = None

    async def __aenter__(self) -> Sender:
        if self.via == "http":
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64),
                timeout=aiohttp.ClientTimeout(total=120),
            )
        else:
            from services.ingest.publisher import Publisher

            self._publisher = Publisher(self.settings)
            await self._publisher.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()
        if self._publisher is not None:
            await self._publisher.stop()

    async def send(self, items: Sequence[bytes]) -> None:
        if self._http is not None:
            url = f"http://127.0.0.1:{self.settings.http_port}/articles"
            body = b"[" + b",".join(items) + b"]"
            for attempt in range(20):
                async with self._http.post(
                    url, data=body, headers={"Content-Type": "application/json"}
                ) as resp:
                    if resp.status == 202:
                        return
                    text = await resp.text()
                if resp.status != 503:
                    hint = (
                        " (ingest's rate limit, NEWSWIRE_RATE_LIMIT_PER_S, is below the bench's "
                        "request rate: raise it or publish larger --batch lists)"
                        if resp.status == 429
                        else ""
                    )
                    raise RuntimeError(f"ingest answered {resp.status}: {text[:300]}{hint}")
                await asyncio.sleep(0.2 * (attempt + 1))
            raise RuntimeError("ingest kept answering 503")
        from services.ingest.parse import from_mapping

        await self._publisher.publish([from_mapping(json.loads(i), source="bench") for i in items])


async def publish(
    sender: Sender,
    items: Sequence[tuple[str, bytes]],
    opts: Options,
    obs: Observed,
    on_published: Callable[[int], None],
) -> None:
    """At a fixed rate (article i due at t0 + i/rate) or as fast as acks come back."""
    sem = asyncio.Semaphore(opts.concurrency if opts.rate <= 0 else 64)
    tasks: set[asyncio.Task[None]] = set()
    errors: list[BaseException] = []

    async def one(chunk: Sequence[tuple[str, bytes]]) -> None:
        try:
            await sender.send([b for _, b in chunk])
            now = time.time()
            for aid, _ in chunk:
                obs.published[aid] = now
            on_published(len(chunk))
        except Exception as exc:
            errors.append(exc)
        finally:
            sem.release()

    t0 = time.monotonic()
    i = 0
    while i < len(items) and not errors:
        if opts.rate > 0:
            due = min(len(items), int((time.monotonic() - t0) * opts.rate) + 1)
            if due <= i:
                await asyncio.sleep(max(0.0, t0 + i / opts.rate - time.monotonic()))
                continue
            chunk = items[i : min(due, i + opts.batch)]
        else:
            chunk = items[i : i + opts.batch]
        await sem.acquire()
        task = asyncio.create_task(one(chunk))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        i += len(chunk)
    if tasks:
        await asyncio.gather(*tasks)
    if errors:
        raise errors[0]


# ---- the run -------------------------------------------------------------------------------------
def articles(opts: Options, tag: str, count: int) -> list[tuple[str, bytes]]:
    """(article id, JSON bytes) for `count` articles: generated, or cycled from files."""
    from services.bench.corpus import from_files, generated

    source = (
        from_files(list(opts.files), count, tag) if opts.files else generated(count, opts.seed, tag)
    )
    out = []
    for a in source:
        out.append((article_id(a["url"], a["title"], a["body"]), json.dumps(a).encode()))
    return out


@dataclass
class Progress:
    """Callbacks the CLI hooks a progress bar to."""

    published: Callable[[int], None] = lambda n: None
    status: Callable[[Observed], None] = lambda obs: None


async def _wait(
    pred: Callable[[], bool], timeout: float, what: str, tick: Callable[[], None]
) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        tick()
        await asyncio.sleep(0.1)


async def drive(
    settings: Settings,
    opts: Options,
    pids: Mapping[str, int],
    replicas: Mapping[str, int],
    progress: Progress,
    check: Callable[[], None] = lambda: None,
) -> tuple[Observed, dict[str, Any]]:
    """Warm up, publish the run's articles, wait until every one is tagged and every alert delivered."""
    topics = Topics.from_settings(settings)
    warm = articles(opts, f"{opts.tag}-warmup", opts.warmup) if opts.warmup else []
    items = articles(opts, opts.tag, opts.count)
    ids = {aid for aid, _ in items} | {aid for aid, _ in warm}
    if len(ids) != len(items) + len(warm):
        raise ValueError("article ids collide: the corpus repeats URLs")
    obs = Observed()

    probe = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, enable_auto_commit=False)
    await probe.start()
    try:
        starts = {
            **await _end_offsets(probe, topics.tagged),
            **await _end_offsets(probe, topics.alerts),
        }
        raw_before = await _end_offsets(probe, topics.raw)
        enriched_before = await _end_offsets(probe, topics.enriched)
    finally:
        await probe.stop()

    ready = asyncio.Event()
    observers = [
        asyncio.create_task(observe_topics(settings, starts, obs, ids)),
        asyncio.create_task(observe_redis(settings, obs, ids, ready)),
    ]
    sampler: asyncio.Task[None] | None = None
    try:
        await asyncio.wait_for(ready.wait(), 30)
        async with Sender(settings, opts.via) as sender:
            if warm:  # also proves every stage is consuming before the clock starts
                await publish(sender, warm, opts, Observed(), lambda n: None)
                warm_ids = [a for a, _ in warm]
                await _wait(
                    lambda: all(a in obs.tagged for a in warm_ids), 180, "warm-up articles", check
                )
            for stage, want in replicas.items():
                group = group_id(settings, stage)
                deadline = time.monotonic() + 120
                while await group_members(settings, group) < want:
                    check()
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{group} never had {want} stable members")
                    await asyncio.sleep(0.5)
            ids.difference_update(a for a, _ in warm)  # late warm-up alerts are not the run's
            obs.tagged.clear()
            obs.alerts_kafka.clear()
            obs.alerts_redis.clear()
            sampler = asyncio.create_task(
                sample_loop(settings, pids, obs, opts.sample_interval, lag_groups(opts.fused))
            )
            await asyncio.sleep(opts.sample_interval)  # a baseline sample before the first article
            started = time.time()
            await publish(sender, items, opts, obs, progress.published)
        published_at = time.time()

        last_change = {"n": -1, "t": time.time()}

        def done() -> bool:
            """All tagged, the alerts stage caught up, and no alert arrived for a second."""
            progress.status(obs)
            n = len(obs.alerts_kafka) + len(obs.alerts_redis)
            if n != last_change["n"]:
                last_change.update(n=n, t=time.time())
            if len(obs.tagged) < len(items) or not obs.lag:
                return False
            last = obs.lag[-1]
            return (
                last["t"] > max(v["seen"] for v in obs.tagged.values())
                and last.get("alerts", 1) == 0
                and time.time() - last_change["t"]
                > (1.0 if len(obs.alerts_redis) >= len(obs.alerts_kafka) else 5.0)
            )

        def tick() -> None:
            check()
            progress.status(obs)

        await _wait(done, opts.timeout, "the pipeline to drain", tick)
        finished = time.time()
        client = aioredis.Redis.from_url(settings.redis)
        try:  # the capped history stream: what a subscriber that was offline would still get
            stream_len = int(await client.xlen(RedisKeys(settings.redis_prefix).stream))
        finally:
            await client.aclose()
        probe = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, enable_auto_commit=False)
        await probe.start()
        try:
            raw_after = await _end_offsets(probe, topics.raw)
            enriched_after = await _end_offsets(probe, topics.enriched)
        finally:
            await probe.stop()
    finally:
        for task in [*observers, *([sampler] if sampler else [])]:
            task.cancel()
        for task in [*observers, *([sampler] if sampler else [])]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    window = {
        "started": started,
        "published": published_at,
        "finished": finished,
        "redis_stream_len": stream_len,
        "raw_offsets": {
            f"{tp.topic}:{tp.partition}": [raw_before.get(tp, 0), end]
            for tp, end in raw_after.items()
        },
        # the feed of enriched articles, warm-up included: whoever writes it (a stage or --fused)
        "enriched_written": sum(
            end - enriched_before.get(tp, 0) for tp, end in enriched_after.items()
        ),
    }
    return obs, window


def run_services_pids(procs: Mapping[str, Any]) -> dict[str, int]:
    return {name: p.pid for name, p in procs.items()}


def stack_pids(settings: Settings) -> dict[str, int]:
    """Kafka and Redis pids of a local stack (absent for external services)."""
    if settings.external:
        return {}
    from services.devstack.stack import LocalStack, _read_pid

    st = LocalStack(settings)
    out = {}
    for comp in (st.kafka, st.redis):
        pid = _read_pid(comp.pidfile)
        if pid is not None:
            out[comp.name] = pid
    return out


def iter_raw_offsets(window: Mapping[str, Any]) -> Iterator[tuple[str, int, int, int]]:
    for key, (start, end) in window["raw_offsets"].items():
        topic, part = key.rsplit(":", 1)
        yield topic, int(part), start, end
