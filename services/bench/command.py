"""`newswire bench`: set up (stack, services), run, measure the baselines, print and save the report."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from services.common.settings import Settings, get_settings
from services.common.topology import SERVICES
from services.devstack.stack import LocalStack, StackError, free_port, private_stack
from services.devstack.supervise import (
    ServiceDied,
    check_alive,
    running_services,
    service_command,
    settings_env,
)

if TYPE_CHECKING:  # the bench's own modules import Kafka/Redis/HTTP clients: only when it runs
    from services.bench import run


@contextlib.contextmanager
def bench_stack(base: Settings, tag: str, reuse: bool) -> Iterator[Settings]:
    """External services, the local stack (--reuse-stack) or a private one on free ports. Topic and
    Redis prefixes are the run's own, so every run starts with empty topics."""
    names = {"topic_prefix": f"bench{tag}", "redis_prefix": f"bench{tag}", "http_port": free_port()}
    if reuse and not base.external:
        LocalStack(base).up()
        yield base.model_copy(update=names)
        return
    with private_stack(base, base.state_dir / f"bench-{tag}", **names) as s:
        yield s


def wait_healthy(settings: Settings, procs: Mapping[str, Any], timeout: float = 90.0) -> None:
    """Until ingest answers /health (its producer is connected)."""
    deadline = time.monotonic() + timeout
    while True:
        check_alive(procs)
        with contextlib.suppress(OSError):
            url = f"http://127.0.0.1:{settings.http_port}/health"
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        if time.monotonic() > deadline:
            raise ServiceDied(f"ingest did not answer /health within {timeout:.0f}s")
        time.sleep(0.3)


def execute(
    settings: Settings,
    opts: run.Options,
    *,
    start_services: bool = True,
    enrichment_replicas: int = 1,
    progress: run.Progress | None = None,
    log_dir: Path | None = None,
) -> dict[str, Any]:
    """One full bench on a ready stack: services, warm-up, run, baselines; returns the report."""
    from services.bench import baselines, report, run
    from services.common.kafka import ensure_topics

    progress = progress or run.Progress()
    asyncio.run(ensure_topics(settings))
    warmed = asyncio.run(baselines.warm_broker(settings, opts.broker_warmup_s))
    names = (*SERVICES, *("enrichment",) * (enrichment_replicas - 1)) if start_services else ()
    command, first = service_command, "enrichment"
    if opts.fused:  # issue 20's experiment: enrichment and tagging in one worker
        from services.bench import fused

        names, command, first = fused.services(names), fused.command, fused.SERVICE
    load_before = run.load_average()
    # The bench is ingest's only client here: its per-client rate limit would measure the limiter.
    env = {
        **settings_env(settings),
        "NEWSWIRE_RATE_LIMIT_PER_S": "0",
        "NEWSWIRE_RATE_LIMIT_ARTICLES_PER_S": "0",
    }
    with running_services(names, env=env, log_dir=log_dir, command=command) as procs:
        if procs:
            wait_healthy(settings, procs)
        pids = {**run.run_services_pids(procs), **run.stack_pids(settings)}
        replicas = {first: enrichment_replicas} if start_services else {}

        def check() -> None:
            check_alive(procs)

        obs, window = asyncio.run(run.drive(settings, opts, pids, replicas, progress, check))
        peaks = {name: got[1] for name, pid in pids.items() if (got := run.read_proc(pid))}
    load_after = run.load_average()

    sample = [b for _, b in run.articles(opts, opts.tag, min(opts.count, opts.core_sample))]
    base: dict[str, Any] = {"core": baselines.core(sample, settings)}
    if opts.passthrough:
        offsets = list(run.iter_raw_offsets(window))
        base["passthrough_batched"] = asyncio.run(baselines.passthrough(settings, offsets, False))
        base["passthrough_per_message"] = asyncio.run(
            baselines.passthrough(settings, offsets, True)
        )
    if opts.relay:
        base["faust_relay"] = relay_baseline(settings, window, env, log_dir)
    meta = {
        "corpus": "files" if opts.files else f"generated, seed {opts.seed}",
        "rate": opts.rate,
        "via": opts.via,
        "replicas": {"enrichment": enrichment_replicas},
        "fused": opts.fused,
        "partitions": settings.partitions,
        "broker_warmup": {"seconds": opts.broker_warmup_s, "records": warmed},
        "load_before": load_before,
        "load_after": load_after,
        "hardware": run.hardware(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(window["started"])),
    }
    return report.build(obs, window, count=opts.count, peaks_kb=peaks, baselines=base, meta=meta)


def relay_baseline(
    settings: Settings, window: Mapping[str, Any], env: Mapping[str, str], log_dir: Path | None
) -> Any:
    """The same records through three worker shells that do no work (services/bench/relay.py)."""
    from services.bench import relay, run
    from services.common.kafka import ensure_topics

    names = [relay.topic(settings.topic_prefix, hop) for hop in range(relay.HOPS + 1)]
    asyncio.run(ensure_topics(settings, extra=names))
    hops = tuple(relay.service(hop) for hop in range(1, relay.HOPS + 1))
    with running_services(hops, env=env, log_dir=log_dir, command=relay.command) as procs:
        pids = {**run.run_services_pids(procs), **run.stack_pids(settings)}
        offsets = list(run.iter_raw_offsets(window))
        return asyncio.run(relay.measure(settings, offsets, pids, lambda: check_alive(procs)))


@click.command("bench")
@click.option("-n", "--count", type=click.IntRange(1), default=2000, show_default=True)
@click.option(
    "--rate", type=float, default=0.0, help="Articles per second; 0 = as fast as possible."
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the generated corpus."
)
@click.option(
    "--files",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Use these articles (cycled) instead of the generated corpus; repeatable.",
)
@click.option("--via", type=click.Choice(["http", "kafka"]), default="http", show_default=True)
@click.option("--batch", type=click.IntRange(1), default=100, show_default=True)
@click.option("--warmup", type=click.IntRange(0), default=20, show_default=True)
@click.option(
    "--broker-warmup",
    type=click.FloatRange(0),
    default=15.0,
    show_default=True,
    help="Seconds of small requests to the broker before the services start (JIT warm-up).",
)
@click.option("--enrichment-replicas", type=click.IntRange(1, 8), default=1, show_default=True)
@click.option(
    "--use-running",
    is_flag=True,
    help="Measure services that already run (on the configured stack) instead of starting them.",
)
@click.option("--reuse-stack", is_flag=True, help="Use the local stack instead of a private one.")
@click.option("--no-passthrough", is_flag=True, help="Skip the aiokafka pass-through baseline.")
@click.option("--no-relay", is_flag=True, help="Skip the no-work worker relay baseline.")
@click.option(
    "--fused",
    is_flag=True,
    help="Run enrichment and tagging in one worker process (an experiment, services/bench/fused.py).",
)
@click.option("--core-sample", type=click.IntRange(1), default=300, show_default=True)
@click.option("--timeout", type=float, default=600.0, show_default=True)
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the report here.")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path), help="Draw a PNG here.")
def bench(
    count: int,
    rate: float,
    seed: int,
    files: tuple[Path, ...],
    via: str,
    batch: int,
    warmup: int,
    broker_warmup: float,
    enrichment_replicas: int,
    use_running: bool,
    reuse_stack: bool,
    no_passthrough: bool,
    no_relay: bool,
    fused: bool,
    core_sample: int,
    timeout: float,
    json_path: Path | None,
    plot_path: Path | None,
) -> None:
    """Drive the pipeline on the real stack and report throughput, latency, CPU, memory and lag."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from services.bench import report, run

    tag = uuid.uuid4().hex[:8]
    opts = run.Options(
        count=count,
        rate=rate,
        seed=seed,
        files=files,
        via="kafka" if via == "kafka" else "http",
        batch=batch,
        warmup=warmup,
        broker_warmup_s=broker_warmup,
        timeout=timeout,
        core_sample=core_sample,
        passthrough=not no_passthrough,
        relay=not no_relay,
        fused=fused,
        tag=tag,
    )
    console = Console(stderr=True)
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    published = bar.add_task("published", total=count)
    tagged = bar.add_task("tagged", total=count)
    alerts = bar.add_task("alerts in Redis", total=None)

    def status(obs: run.Observed) -> None:
        bar.update(tagged, completed=len(obs.tagged))
        bar.update(alerts, completed=len(obs.alerts_redis), total=max(1, len(obs.alerts_kafka)))

    hooks = run.Progress(published=lambda n: bar.advance(published, n), status=status)
    base = get_settings()
    try:
        if use_running:
            result = _with_bar(
                bar, lambda: execute(base, replace(opts), start_services=False, progress=hooks)
            )
        else:
            with bench_stack(base, tag, reuse_stack) as s:
                console.print(
                    f"stack: Kafka {s.bootstrap}, Redis {s.redis_shown}, topics {s.topic_prefix}.*"
                )
                result = _with_bar(
                    bar,
                    lambda: execute(
                        s,
                        opts,
                        enrichment_replicas=enrichment_replicas,
                        progress=hooks,
                        log_dir=s.state_dir / "logs" / f"bench-{tag}",
                    ),
                )
    except (StackError, ServiceDied, TimeoutError) as exc:
        raise click.ClickException(str(exc)) from exc
    Console().print(report.render(result))
    if json_path is not None:
        json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        console.print(f"report written to {json_path}")
    if plot_path is not None:
        report.plot(result, plot_path)
        console.print(f"plot written to {plot_path}")
    if not result["complete"]:
        raise click.ClickException("incomplete run: not every article or alert came through")


def _with_bar(bar: Any, fn: Any) -> dict[str, Any]:
    with bar:
        result: dict[str, Any] = fn()
    return result
