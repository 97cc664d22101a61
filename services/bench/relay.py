"""The framework floor: the pipeline's own worker shell (faust app, `Stage`, batching, acks, commits,
metrics) relaying records through three hops, one process each, with no work in between.

It answers how fast the pipeline could be if enrichment, tagging and alerting cost nothing: the
aiokafka pass-through is the transport's limit, the core baseline is the compute's, and this is
what the worker processes add on top of the transport. Run as a child process per hop:
`python -m services.bench.relay relayN` (N = 1..HOPS) with the bench's settings in the environment.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.common.settings import Settings

HOPS = 3  # enrichment -> tagging -> alerts


def topic(prefix: str, hop: int) -> str:
    """The relay's topics: 0 is fed by the bench, hop N reads N-1 and writes N."""
    return f"{prefix}.bench.relay{hop}.v1"


def service(hop: int) -> str:
    return f"relay{hop}"


class Opaque:
    """A record passed on as it came: what `Stage` needs of an output (an id and its JSON)."""

    __slots__ = ("id", "value")

    def __init__(self, value: bytes, n: int) -> None:
        self.id = str(n)
        self.value = value

    def model_dump_json(self) -> str:
        return self.value.decode()


def build(hop: int) -> Any:
    from services.common.settings import get_settings
    from services.common.worker import Stage, make_app

    settings = get_settings()
    app = make_app(service(hop), settings)
    seen = iter(range(sys.maxsize))

    def compute(value: bytes) -> list[Opaque]:
        return [Opaque(value, next(seen))]

    Stage(
        app=app,
        settings=settings,
        name=service(hop),
        source=topic(settings.topic_prefix, hop - 1),
        sink=topic(settings.topic_prefix, hop),
        compute=compute,
    )
    return app


def command(name: str) -> list[str]:
    """The command line of one relay worker (`relay1`..`relay3`), for `running_services`."""
    return [sys.executable, "-m", "services.bench.relay", name]


async def measure(
    settings: Settings,
    offsets: Sequence[tuple[str, int, int, int]],
    pids: Mapping[str, int],
    check: Callable[[], None],
    timeout: float = 600.0,
) -> dict[str, Any]:
    """Feed the run's raw records into hop 0 as fast as the producer goes, once every hop's group
    is stable, and time them until all are on the last hop's topic; CPU of each process meanwhile."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from services.bench.run import _end_offsets, group_members, read_proc
    from services.common.kafka import make_producer
    from services.common.topology import group_id

    deadline = time.monotonic() + 120
    for hop in range(1, HOPS + 1):
        while await group_members(settings, group_id(settings, service(hop))) < 1:
            check()
            if time.monotonic() > deadline:
                raise TimeoutError(f"relay hop {hop} never joined its group")
            await asyncio.sleep(0.3)
    await asyncio.sleep(1.0)  # let the fetchers settle on their positions
    records: list[tuple[bytes | None, bytes]] = []
    reader = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, enable_auto_commit=False)
    await reader.start()
    try:
        ranges = {TopicPartition(t, p): (s, e) for t, p, s, e in offsets if e > s}
        reader.assign(list(ranges))
        for tp, (start, _) in ranges.items():
            reader.seek(tp, start)
        want = sum(e - s for s, e in ranges.values())
        while len(records) < want:
            for tp, recs in (await reader.getmany(timeout_ms=1000)).items():
                records += [(r.key, r.value) for r in recs if r.offset < ranges[tp][1]]
        last = topic(settings.topic_prefix, HOPS)
        before = sum((await _end_offsets(reader, last)).values())
        cpu0 = {n: got[0] for n, pid in pids.items() if (got := read_proc(pid))}
        producer = make_producer(settings)
        await producer.start()
        started = time.perf_counter()
        try:
            first = topic(settings.topic_prefix, 0)
            futures = [await producer.send(first, value, key=key) for key, value in records]
            await asyncio.gather(*futures)
        finally:
            await producer.stop()
        fed = time.perf_counter() - started
        end = time.monotonic() + timeout
        while sum((await _end_offsets(reader, last)).values()) - before < len(records):
            check()
            if time.monotonic() > end:
                raise TimeoutError("the relay did not pass every record on")
            await asyncio.sleep(0.05)
        wall = time.perf_counter() - started
        cpu1 = {n: got[0] for n, pid in pids.items() if (got := read_proc(pid))}
    finally:
        await reader.stop()
    n = len(records)
    per_1000 = {k: round((cpu1[k] - cpu0[k]) / n * 1000, 3) for k in cpu1 if k in cpu0}
    return {
        "hops": HOPS,
        "records": n,
        "per_s": round(n / wall, 1) if wall else 0.0,
        "feed_s": round(fed, 3),
        "cpu_s_per_1000": per_1000,
        "workers_cpu_s_per_1000": round(
            sum(v for k, v in per_1000.items() if k.startswith("relay")), 3
        ),
    }


def main(argv: list[str]) -> None:
    from services.common.worker import run_worker

    run_worker(build(int(argv[0].removeprefix("relay"))), loglevel="warning")


if __name__ == "__main__":
    main(sys.argv[1:])
