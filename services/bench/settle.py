"""The alerts worker's story settlement against a real Redis, by batch size: what catching up a
backlog costs per article (a batch of 1 is the pipeline keeping up, 100 a worker catching up).

    uv run python -m services.bench.settle [-n 300] [--batch 1,10,100] [--repeat 3] [--redis URL]

Proposals come from the synthetic corpus through the pure chain; each pass settles them all in
batches of the given size into fresh keys (`StoryEngine.settle_all` over `RedisStories`) and
reports wall time, this process's CPU and the Redis server's CPU (INFO cpu) per article. Redis
defaults to the configured one (`newswire up` or `make demo` starts it).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Sequence
from typing import Any

from services.alerts.core import Proposal


async def _redis_cpu(client: Any) -> float:
    info = await client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


async def measure(
    url: str, proposals: Sequence[Proposal], batches: Sequence[int], repeat: int
) -> dict[int, dict[str, float]]:
    """Medians over `repeat` passes of ms per article: wall, client CPU, Redis CPU."""
    import redis.asyncio as aioredis

    from services.alerts.core import StoryEngine
    from services.alerts.store import RedisStories
    from services.common.topics import RedisKeys

    client = aioredis.Redis.from_url(url)
    runs: dict[int, list[tuple[float, float, float]]] = {b: [] for b in batches}
    try:
        for _ in range(repeat):
            for size in batches:
                keys = RedisKeys(f"bench-settle-{uuid.uuid4().hex[:8]}")
                stories = StoryEngine(
                    RedisStories(client, keys, dedupe_ttl_s=600, maxlen=len(proposals) * 8)
                )
                r0, c0, w0 = await _redis_cpu(client), time.process_time(), time.perf_counter()
                for at in range(0, len(proposals), size):
                    await stories.settle_all(proposals[at : at + size])
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                server = await _redis_cpu(client) - r0
                per = 1000 / len(proposals)
                runs[size].append((wall * per, cpu * per, server * per))
                await _drop(client, keys.prefix)
    finally:
        await client.aclose()
    return {
        size: {
            name: statistics.median(r[i] for r in rs)
            for i, name in enumerate(("wall_ms", "cpu_ms", "redis_cpu_ms"))
        }
        for size, rs in runs.items()
    }


async def _drop(client: Any, prefix: str) -> None:
    keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
    for at in range(0, len(keys), 500):
        await client.delete(*keys[at : at + 500])


def proposals(n: int, seed: int) -> list[Proposal]:
    from schemas import RawArticle
    from services.alerts.core import propose
    from services.bench.stages import corpus
    from services.offline.chain import Chain

    chain = Chain.load()
    return [
        propose(chain.tagged(RawArticle.model_validate_json(raw)), chain.rules, chain.taxonomy)
        for raw in corpus(n, seed)
    ]


def main(argv: list[str] | None = None) -> int:
    from services.common.settings import get_settings

    ap = argparse.ArgumentParser(prog="python -m services.bench.settle", description=__doc__)
    ap.add_argument("-n", type=int, default=300, help="synthetic articles")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--batch", default="1,10,100", help="batch sizes, comma-separated")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--redis", default=None, help="Redis URL (default: the configured one)")
    args = ap.parse_args(argv)
    batches = [int(b) for b in args.batch.split(",")]
    props = proposals(args.n, args.seed)
    url = args.redis or get_settings().redis
    for size, m in asyncio.run(measure(url, props, batches, args.repeat)).items():
        print(
            f"batch {size:4d}: wall {m['wall_ms']:.3f} ms/article, client CPU {m['cpu_ms']:.3f}, "
            f"Redis CPU {m['redis_cpu_ms']:.3f} (median of {args.repeat})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
