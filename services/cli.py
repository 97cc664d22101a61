"""`newswire` command line: the imperative shell around the services."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from services.common import logging as nlog
from services.common.settings import PROJECT_ROOT, Settings, get_settings
from services.common.stack import LocalStack, StackError, wait_ready
from services.common.supervise import SERVICES, ServiceDied, check_alive, running_services
from services.common.topics import RedisKeys, Topics


def _settings() -> Settings:
    return get_settings()


@click.group()
def main() -> None:
    """newswire: watch news for escalation (Kafka -> enrichment -> tagging -> alerts -> Redis)."""
    nlog.setup(_settings().log_level)


# ---- stack ---------------------------------------------------------------------------------
@main.group()
def stack() -> None:
    """The local Kafka + Redis stack (nothing is started when KAFKA_BOOTSTRAP_SERVERS/REDIS_URL are set)."""


@stack.command("up")
def stack_up() -> None:
    s = _settings()
    if s.external:
        asyncio.run(wait_ready(s))
        click.echo(f"using external Kafka {s.bootstrap} and Redis {s.redis}")
        return
    try:
        started = LocalStack(s).up()
        _create_topics(s)
    except StackError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"stack up (started: {', '.join(started) or 'nothing, already running'}); "
        f"Kafka {s.bootstrap}, Redis {s.redis}"
    )


@stack.command("status")
def stack_status() -> None:
    for name, state in LocalStack(_settings()).status().items():
        click.echo(f"{name:6} {state}")


@stack.command("down")
def stack_down() -> None:
    stopped = LocalStack(_settings()).down()
    click.echo(f"stopped: {', '.join(stopped) or 'nothing was running'}")


def _create_topics(s: Settings) -> None:
    from services.common.kafka import ensure_topics

    created = asyncio.run(ensure_topics(s))
    if created:
        click.echo(f"created topics: {', '.join(created)}")


@main.command()
def health() -> None:
    """Exit 0 when Kafka answers metadata and Redis answers PING (container health checks)."""
    from services.common.stack import kafka_ready, redis_ready

    s = _settings()

    async def check() -> dict[str, bool]:
        return {"kafka": await kafka_ready(s.bootstrap), "redis": await redis_ready(s.redis)}

    result = asyncio.run(check())
    click.echo(" ".join(f"{k}={'ok' if v else 'DOWN'}" for k, v in result.items()))
    if not all(result.values()):
        sys.exit(1)


@main.group()
def topics() -> None:
    """Kafka topic administration."""


@topics.command("create")
def topics_create() -> None:
    _create_topics(_settings())
    click.echo("topics: " + ", ".join(Topics.from_settings(_settings()).all()))


# ---- services ------------------------------------------------------------------------------
@main.command("run")
@click.argument("service", type=click.Choice(SERVICES))
def run(service: str) -> None:
    """Run one service in the foreground (its own process and consumer group)."""
    s = _settings()
    from services.common.kafka import wait_for_topics

    asyncio.run(wait_for_topics(s))
    if service == "ingest":
        from aiohttp import web

        from services.ingest.http import make_app
        from services.ingest.publisher import Publisher

        web.run_app(
            make_app(s, Publisher(s)),
            host=s.http_host,
            port=s.http_port,
            print=lambda m: click.echo(m, err=True),
        )
        return
    from services.common.worker import run_worker

    if service == "enrichment":
        from services.enrichment.worker import build
    elif service == "tagging":
        from services.tagging.worker import build
    else:
        from services.alerts.worker import build
    sys.argv = [sys.argv[0]]  # faust's worker reads argv
    run_worker(build(s), loglevel=s.log_level.lower())


@main.command("up")
def up() -> None:
    """Start the stack and all four services in the foreground; Ctrl-C stops everything."""
    s = _settings()
    st = LocalStack(s)
    started: list[str] = []
    try:
        if not s.external:
            started = st.up()
        _create_topics(s)
        with running_services() as procs:
            click.echo(
                f"running {', '.join(procs)}; ingest on http://{s.http_host}:{s.http_port}"
                " - Ctrl-C to stop"
            )
            signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
            while True:
                check_alive(procs)
                time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("stopping")
    except (StackError, ServiceDied) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if started:
            st.down()


# ---- ingest from files ---------------------------------------------------------------------
@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def replay(paths: tuple[Path, ...]) -> None:
    """Publish articles from files and folders (.txt, .md, .json, .jsonl) to the raw topic."""
    from services.ingest.replay import replay as do_replay

    report = asyncio.run(do_replay(_settings(), list(paths)))
    for item in report.skipped:
        where = f"{item.path}:{item.line}" if item.line else str(item.path)
        click.echo(f"skipped {where}: {item.error}", err=True)
    click.echo(f"published {len(report.published)}, skipped {len(report.skipped)}")
    for aid in report.published[:20]:
        click.echo(f"  {aid}")


# ---- consumers -----------------------------------------------------------------------------
@main.command()
@click.option("--pattern", default=None, help="Redis PSUBSCRIBE pattern (default: all alerts).")
@click.option("--severity", type=click.Choice(["low", "medium", "high", "critical"]))
@click.option("--json", "as_json", is_flag=True, help="One JSON alert per line.")
@click.option("--count", type=int, default=None, help="Exit after this many alerts.")
def subscribe(pattern: str | None, severity: str | None, as_json: bool, count: int | None) -> None:
    """Print alerts as they arrive."""
    from services.alerts.subscribe import alerts, format_alert

    s = _settings()
    keys = RedisKeys(s.redis_prefix)
    pat = pattern or (keys.severity(severity) if severity else keys.all_alerts)

    from services.common.redisconn import client_options

    async def go() -> None:
        n = 0
        opts = client_options(s)
        opts.pop("retry_on_error")  # the subscriber reconnects itself
        async for alert in alerts(s.redis, pat, options=opts, keys=keys):
            if as_json:
                click.echo(alert.model_dump_json())
            else:
                click.echo(format_alert(alert, colour=sys.stdout.isatty()))
            n += 1
            if count is not None and n >= count:
                return

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())


@main.command()
@click.argument("topic")
@click.option("--json", "as_json", is_flag=True, help="Print each record value as it is.")
@click.option("--count", type=int, default=None, help="Exit after this many records.")
@click.option("--timeout", type=float, default=None, help="Exit after this many idle seconds.")
def tail(topic: str, as_json: bool, count: int | None, timeout: float | None) -> None:
    """Print a topic's records from the beginning (TOPIC may be raw, enriched, tagged, alerts, deadletter)."""
    from aiokafka import AIOKafkaConsumer

    s = _settings()
    name = getattr(Topics.from_settings(s), topic, topic)

    async def go() -> None:
        from services.common.kafka import client_kwargs

        consumer = AIOKafkaConsumer(
            name,
            **client_kwargs(s),
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            n = 0
            while count is None or n < count:
                batch = await consumer.getmany(timeout_ms=1000)
                if not batch:
                    if timeout is not None:
                        return
                    continue
                for tp, records in batch.items():
                    for r in records:
                        value = (r.value or b"").decode("utf-8", "replace")
                        if as_json:
                            click.echo(value)
                        else:
                            click.echo(
                                f"{tp.partition}@{r.offset} key={(r.key or b'').decode()} "
                                f"{value[:300]}"
                            )
                        n += 1
        finally:
            await consumer.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())


# ---- dead letters --------------------------------------------------------------------------
@main.group()
def dlq() -> None:
    """Inspect the dead-letter topic and re-inject records after a fix."""


def _dlq_entries() -> list[Any]:
    from services.common.dlq import read_all

    return asyncio.run(read_all(_settings()))


@dlq.command("list")
@click.option("--stage", default=None, help="Only this stage (enrichment, tagging, alerts).")
def dlq_list(stage: str | None) -> None:
    """One line per dead letter: partition@offset, stage, origin, attempts, error."""
    from services.common.dlq import select

    entries = _dlq_entries()
    shown = select(entries, stage=stage)
    for ref, dl in shown:
        click.echo(
            f"{ref:>10} {dl.stage:<10} {dl.topic}[{dl.partition}]@{dl.offset} "
            f"attempts={dl.attempts} {dl.error_class}: {dl.error[:120]}"
        )
    unreadable = sum(1 for e in entries if e.letter is None)
    click.echo(
        f"{len(shown)} dead letter(s)" + (f", {unreadable} unreadable" if unreadable else "")
    )


@dlq.command("show")
@click.argument("ref")
def dlq_show(ref: str) -> None:
    """The whole dead letter at REF (partition@offset), with the original value decoded."""
    import base64

    from services.common.dlq import select

    found = select(_dlq_entries(), refs=[ref])
    if not found:
        raise click.ClickException(f"no dead letter at {ref} (see `newswire dlq list`)")
    dl = found[0][1]
    click.echo(dl.model_dump_json(indent=2))
    click.echo("original value:")
    click.echo(base64.b64decode(dl.value).decode("utf-8", "replace"))


@dlq.command("replay")
@click.argument("refs", nargs=-1)
@click.option("--stage", default=None, help="Only dead letters of this stage.")
@click.option("--error-class", default=None, help="Only dead letters with this error class.")
@click.option("--all", "everything", is_flag=True, help="Every dead letter (when no REFS).")
@click.option("--force", is_flag=True, help="Also those that reached dlq_max_attempts.")
@click.option("--dry-run", is_flag=True, help="Print what would be sent, send nothing.")
def dlq_replay(
    refs: tuple[str, ...],
    stage: str | None,
    error_class: str | None,
    everything: bool,
    force: bool,
    dry_run: bool,
) -> None:
    """Send dead letters back to their original topic (marked with newswire.replayed)."""
    from services.common.dlq import plan, reinject, select

    if not (refs or stage or error_class or everything):
        raise click.UsageError("name REFS (partition@offset), --stage, --error-class or --all")
    s = _settings()
    chosen = select(_dlq_entries(), refs=refs, stage=stage, error_class=error_class)
    todo = plan(chosen, s.dlq_max_attempts, force=force)
    for r in todo:
        click.echo(f"{'would replay' if dry_run else 'replaying'} {r.source} -> {r.topic}")
    held = len(chosen) - len(todo)
    if not dry_run and todo:
        asyncio.run(reinject(s, todo))
    click.echo(
        f"{len(todo)} record(s) {'to replay' if dry_run else 'replayed'}"
        + (f", {held} held back at {s.dlq_max_attempts} attempts (--force)" if held else "")
    )


# ---- contracts -----------------------------------------------------------------------------
@main.command("schemas")
def schemas_export() -> None:
    """Write the JSON Schema of every event into schemas/json/."""
    from schemas.export import write

    for p in write():
        click.echo(str(p))


# ---- the main job --------------------------------------------------------------------------
@main.command()
@click.option("--timeout", type=float, default=120.0, help="Seconds to wait for alerts.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def demo(timeout: float, paths: tuple[Path, ...]) -> None:
    """Start a fresh stack and the four services, subscribe, replay seeds/, print the alerts, stop."""
    from services.alerts.subscribe import alerts, format_alert
    from services.ingest.replay import replay as do_replay

    base = _settings()
    env: dict[str, str] = {}
    s = base
    st: LocalStack | None = None
    if not base.external:
        state = base.state_dir / "demo"
        shutil.rmtree(state, ignore_errors=True)
        s = base.model_copy(update={"state_dir": state})
        env["NEWSWIRE_STATE_DIR"] = str(state)
        st = LocalStack(s)
    sources = list(paths) or [PROJECT_ROOT / "seeds"]
    received: list[Any] = []

    async def go(procs: dict[str, Any]) -> int:
        ready = asyncio.Event()

        async def collect() -> None:
            async for alert in alerts(s.redis, RedisKeys(s.redis_prefix).all_alerts, ready):
                received.append(alert)
                click.echo(format_alert(alert, colour=sys.stdout.isatty()))

        task = asyncio.create_task(collect())
        await ready.wait()
        report = await do_replay(s, sources)
        click.echo(
            f"replayed {len(report.published)} article(s) from "
            f"{', '.join(str(p) for p in sources)}; waiting for alerts..."
        )
        deadline = time.monotonic() + timeout
        seen, quiet_since = 0, 0.0
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            check_alive(procs)
            if len(received) != seen:
                seen, quiet_since = len(received), time.monotonic()
            elif seen and time.monotonic() - quiet_since > 5:  # quiet for 5 s: all arrived
                break
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return len(report.published)

    try:
        if st is not None:
            click.echo("starting Kafka and Redis (first run resolves the Kafka jars with Maven)...")
            st.up()
        _create_topics(s)
        with running_services(env=env, log_dir=s.state_dir / "logs") as procs:
            click.echo("services started: " + ", ".join(SERVICES))
            published = asyncio.run(go(procs))
    except (StackError, ServiceDied) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if st is not None:
            st.down()
    rules = sorted({a.rule_id for a in received})
    click.echo(
        f"\n{len(received)} alert(s) received for {published} article(s): {', '.join(rules)}"
    )
    if not received:
        raise click.ClickException("no alert arrived; see the logs in " + str(s.state_dir / "logs"))
    click.echo("demo finished; everything it started is stopped.")


if __name__ == "__main__":
    main()
