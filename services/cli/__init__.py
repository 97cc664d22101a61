"""`newswire` command line: the imperative shell around the services."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from services.cli.ops import register as register_ops
from services.common import logging as nlog
from services.common.settings import PROJECT_ROOT, Settings, get_settings
from services.common.topics import RedisKeys, Topics
from services.common.topology import EXTRA_SERVICES, SERVICES, stage
from services.devstack.stack import LocalStack, StackError, wait_ready
from services.devstack.supervise import ServiceDied, check_alive, running_services

SEVERITIES = ("low", "medium", "high", "critical")


def _settings() -> Settings:
    return get_settings()


def _interrupt_once(signum: int, frame: object) -> None:
    """First Ctrl-C or SIGTERM stops everything; further ones must not abort that clean-up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def _stop_on_signals() -> None:
    signal.signal(signal.SIGINT, _interrupt_once)
    signal.signal(signal.SIGTERM, _interrupt_once)


@click.group()
def main() -> None:
    """newswire: watch news for escalation (Kafka -> enrichment -> tagging -> alerts -> Redis)."""
    nlog.setup(_settings().log_level, _settings().log_format)


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
    from services.cli.ops import apply_topics  # partitions, retention, compaction (issue 8)

    for change in asyncio.run(apply_topics(s)):
        click.echo(change)


@main.command()
def health() -> None:
    """Exit 0 when Kafka answers metadata and Redis answers PING (container health checks)."""
    from services.common.probes import kafka_ready, redis_ready

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


# ---- services ------------------------------------------------------------------------------
@main.command("run")
@click.argument("service", type=click.Choice([*SERVICES, *EXTRA_SERVICES]))
def run(service: str) -> None:
    """Run one service in the foreground (its own process and consumer group)."""
    s = _settings()
    from aiohttp import web

    from services.common.kafka import wait_for_topics

    nlog.set_service(service)
    asyncio.run(wait_for_topics(s))
    if service == "ingest":
        from services.ingest.feeds.poller import feeds_context
        from services.ingest.http import make_app
        from services.ingest.publisher import Publisher

        publisher = Publisher(s)
        app = make_app(s, publisher)
        app.cleanup_ctx.append(feeds_context(s, publisher))  # after the producer started
        web.run_app(
            app, host=s.http_host, port=s.http_port, print=lambda m: click.echo(m, err=True)
        )
        return
    if service == "webhooks":
        _run_webhooks(s)
        return
    if service == "dashboard":
        from services.dashboard.app import make_app as make_dashboard

        web.run_app(
            make_dashboard(s),
            host=s.http_host,
            port=s.dashboard_port,
            shutdown_timeout=2.0,  # open SSE connections would otherwise hold the exit
            print=lambda m: click.echo(m, err=True),
        )
        return
    import importlib

    from services.common.worker import run_worker

    build = importlib.import_module(stage(service).module).build  # the topology names it
    sys.argv = [sys.argv[0]]  # faust's worker reads argv
    run_worker(build(s), loglevel=s.log_level.lower())


def _run_webhooks(s: Settings) -> None:
    """POST alerts from the Redis stream to the webhook_url of matching subscriptions."""
    import redis.asyncio as aioredis

    from services.delivery.webhooks import dispatch

    secret = s.webhook_secret
    if not secret:
        raise click.ClickException("set NEWSWIRE_WEBHOOK_SECRET: webhooks are signed with it")

    async def go() -> None:
        client = aioredis.Redis.from_url(s.redis)
        try:
            await dispatch(client, RedisKeys(s.redis_prefix), secret)
        finally:
            await client.aclose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())


@main.command("up")
def up() -> None:
    """Start the stack and all five services in the foreground; Ctrl-C stops everything."""
    s = _settings()
    st = LocalStack(s)
    started: list[str] = []
    _stop_on_signals()
    try:
        if not s.external:
            started = st.up()
        _create_topics(s)
        with running_services() as procs:
            click.echo(
                f"running {', '.join(procs)}; ingest on http://{s.http_host}:{s.http_port}"
                " - Ctrl-C to stop"
            )
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
@click.option("--rate", type=float, default=None, help="At most this many articles per second.")
@click.option(
    "--speedup",
    type=float,
    default=None,
    help="Keep the original inter-arrival times from published_at, divided by this.",
)
@click.option("--loop", is_flag=True, help="Start over at the end, until Ctrl-C.")
@click.option(
    "--mapping",
    default=None,
    help="CSV/XML column mapping: a YAML file or a built-in name (reuters21578, ag-news).",
)
@click.option(
    "--column",
    "columns",
    multiple=True,
    help="CSV mapping FIELD=COLUMN (name, or 0-based index with --no-header); repeatable.",
)
@click.option("--no-header", is_flag=True, help="CSV files have no header row.")
@click.option("--include", default=None, help="Inside folders, only file names matching this glob.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def replay(
    paths: tuple[Path, ...],
    rate: float | None,
    speedup: float | None,
    loop: bool,
    mapping: str | None,
    columns: tuple[str, ...],
    no_header: bool,
    include: str | None,
    quiet: bool,
) -> None:
    """Publish articles from files and folders to the raw topic.

    .txt .md .json .jsonl .csv .tsv .xml (Reuters-21578 by default), each optionally .gz.
    """
    from services.ingest.archive import (
        ArchiveReport,
        Mapping,
        Progress,
        ReplayOptions,
        format_progress,
        load_mapping,
        parse_columns,
        replay_archive,
    )

    try:
        m = load_mapping(mapping) if mapping else None
        if columns or no_header:
            m = (m or Mapping()).model_copy(
                update={"fields": parse_columns(list(columns)) or (m.fields if m else {})}
            )
            if no_header:
                m = m.model_copy(update={"header": False})
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    tty = sys.stderr.isatty()

    def show(p: Progress) -> None:
        line = format_progress(p)
        click.echo(f"\r{line}\x1b[K" if tty else line, err=True, nl=not tty)

    opts = ReplayOptions(
        rate=rate,
        speedup=speedup,
        loop=loop,
        mapping=m,
        include=include,
        progress=None if quiet else show,
        progress_every_s=0.2 if tty else 5.0,
    )
    report = ArchiveReport()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C (the way --loop ends): still summarise
        asyncio.run(replay_archive(_settings(), list(paths), opts, report))
    if tty and not quiet:
        click.echo("", err=True)
    for item in report.skipped[:50]:
        where = f"{item.path}:{item.line}" if item.line else str(item.path)
        click.echo(f"skipped {where}: {item.error}", err=True)
    if len(report.skipped) > 50:
        click.echo(f"... and {len(report.skipped) - 50} more skipped", err=True)
    click.echo(report.summary())
    for aid in report.published[:20]:
        click.echo(f"  {aid}")
    if report.failed:
        sys.exit(1)


# ---- feeds ---------------------------------------------------------------------------------
@main.group()
def feeds() -> None:
    """RSS/Atom feeds polled by the ingest service (state kept in Redis)."""


def _with_feed_store(op: Any) -> Any:
    """Run `op(store)` against the feed store in Redis, closing the connection after."""
    from services.common.redisconn import make_redis
    from services.ingest.feeds.store import FeedStore

    async def go() -> Any:
        s = _settings()
        client = make_redis(s)
        try:
            return await op(FeedStore(client, s.redis_prefix))
        finally:
            await client.aclose()

    return asyncio.run(go())


@feeds.command("add")
@click.argument("url")
@click.option("--interval", type=float, default=300.0, help="Seconds between polls.")
@click.option(
    "--stale-after",
    type=float,
    default=48.0,
    help="Hours without a new item before the feed counts as stopped (operational alert).",
)
def feeds_add(url: str, interval: float, stale_after: float) -> None:
    from schemas.base import utcnow
    from services.ingest.feeds.health import FeedConfig

    if not url.startswith(("http://", "https://")):
        raise click.BadParameter("an http:// or https:// URL", param_hint="URL")
    cfg = FeedConfig(
        url=url, interval_s=interval, stale_after_s=stale_after * 3600, added_at=utcnow()
    )

    added = _with_feed_store(lambda store: store.add(cfg))
    click.echo(("added " if added else "updated ") + url)


@feeds.command("remove")
@click.argument("url")
def feeds_remove(url: str) -> None:
    if not _with_feed_store(lambda store: store.remove(url)):
        raise click.ClickException(f"no such feed: {url}")
    click.echo(f"removed {url}")


def _feed_rows() -> list[dict[str, Any]]:
    from schemas.base import utcnow
    from services.ingest.feeds.health import summary

    async def rows(store: Any) -> list[dict[str, Any]]:
        now = utcnow()
        return [summary(c, await store.state(c.url), now) for c in await store.feeds()]

    result: list[dict[str, Any]] = _with_feed_store(rows)
    return result


@feeds.command("list")
def feeds_list() -> None:
    for row in _feed_rows():
        click.echo(f"{row['url']}  every {row['interval_s']:.0f}s  {row['status']}")


@feeds.command("status")
@click.argument("url", required=False)
@click.option("--json", "as_json", is_flag=True)
def feeds_status(url: str | None, as_json: bool) -> None:
    """Health of every feed (or one): last success, last error, items per day, failures."""
    import json

    rows = [r for r in _feed_rows() if url is None or r["url"] == url]
    if url is not None and not rows:
        raise click.ClickException(f"no such feed: {url}")
    for row in rows:
        if as_json:
            click.echo(json.dumps(row))
            continue
        click.echo(f"{row['url']}: {row['status']}")
        for k, v in row.items():
            if k not in ("url", "status"):
                click.echo(f"    {k:21} {v}")
    if any(r["status"] in ("failing", "stale") for r in rows):
        sys.exit(2)


# ---- consumers -----------------------------------------------------------------------------
@main.command()
@click.option("--pattern", default=None, help="Redis PSUBSCRIBE pattern (default: all alerts).")
@click.option("--severity", type=click.Choice(list(SEVERITIES)), help="At least this severity.")
@click.option("--rule", "rules", multiple=True, help="Only these rule ids (repeatable).")
@click.option("--country", "countries", multiple=True, help="Only alerts about these ISO codes.")
@click.option("--subscription", default=None, help="Listen on a named subscription's channel.")
@click.option(
    "--since", default=None, help="First catch up from the stream: a stream id or a time."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON alert per line.")
@click.option("--count", type=int, default=None, help="Exit after this many alerts.")
def subscribe(
    pattern: str | None,
    severity: str | None,
    rules: tuple[str, ...],
    countries: tuple[str, ...],
    subscription: str | None,
    since: str | None,
    as_json: bool,
    count: int | None,
) -> None:
    """Print alerts as they arrive (after the missed ones, with --since)."""
    from schemas import Digest, Subscription
    from services.delivery.follow import follow
    from services.delivery.live import format_alert, format_digest

    s = _settings()
    keys = RedisKeys(s.redis_prefix)
    channel = pattern or (keys.subscription(subscription) if subscription else keys.all_alerts)
    flt = Subscription(
        name="cli",
        min_severity=severity or "low",
        rules=list(rules),
        countries=[c.upper() for c in countries],
    )

    async def go() -> None:
        n = 0
        async for item in follow(s, channel=channel, flt=flt, since=since):
            if as_json:
                click.echo(item.model_dump_json())
            elif isinstance(item, Digest):
                click.echo(format_digest(item))
            else:
                click.echo(format_alert(item, colour=sys.stdout.isatty()))
            n += 1
            if count is not None and n >= count:
                return

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())


@main.group()
def subscriptions() -> None:
    """Named server-side subscriptions: filters kept in Redis, matches on their own channel."""


@subscriptions.command("add")
@click.argument("name")
@click.option("--severity", type=click.Choice(list(SEVERITIES)), default="low")
@click.option("--rule", "rules", multiple=True, help="Rule ids (repeatable); none = any.")
@click.option("--country", "countries", multiple=True, help="ISO codes (repeatable); none = any.")
@click.option(
    "--rate-limit", type=int, default=None, help="Alerts per window; the rest go to a digest."
)
@click.option("--webhook", default=None, help="Also POST matches to this URL.")
def subscriptions_add(
    name: str,
    severity: str,
    rules: tuple[str, ...],
    countries: tuple[str, ...],
    rate_limit: int | None,
    webhook: str | None,
) -> None:
    from pydantic import ValidationError

    from schemas import Subscription

    s = _settings()
    try:
        sub = Subscription(
            name=name,
            min_severity=severity,
            rules=list(rules),
            countries=[c.upper() for c in countries],
            rate_limit_per_min=rate_limit,
            webhook_url=webhook,
        )
    except ValidationError as exc:
        raise click.BadParameter(str(exc)) from exc
    asyncio.run(_with_store(s, lambda st: st.add(sub)))
    click.echo(f"subscription {name}: channel {RedisKeys(s.redis_prefix).subscription(name)}")


@subscriptions.command("list")
@click.option("--json", "as_json", is_flag=True)
def subscriptions_list(as_json: bool) -> None:
    s = _settings()
    subs = asyncio.run(_with_store(s, lambda st: st.list()))
    for sub in subs:
        if as_json:
            click.echo(sub.model_dump_json())
        else:
            click.echo(
                f"{sub.name}: severity>={sub.min_severity} rules={','.join(sub.rules) or '*'} "
                f"countries={','.join(sub.countries) or '*'} "
                f"rate={sub.rate_limit_per_min or 'unlimited'}/window"
            )


@subscriptions.command("remove")
@click.argument("name")
def subscriptions_remove(name: str) -> None:
    if not asyncio.run(_with_store(_settings(), lambda st: st.remove(name))):
        raise click.ClickException(f"no subscription named {name!r}")
    click.echo(f"removed {name}")


async def _with_store(s: Settings, op: Any) -> Any:
    from services.common.redisconn import make_redis
    from services.delivery.subscriptions import SubscriptionStore

    client = make_redis(s)
    try:
        return await op(SubscriptionStore(client, RedisKeys(s.redis_prefix)))
    finally:
        await client.aclose()


@main.command()
@click.argument("topic")
@click.option("--from-beginning", is_flag=True, help="Start at the oldest record.")
@click.option("--since", default=None, help="Start at this time: 10m, 2h, 1d or ISO 8601.")
@click.option("-n", "--lines", type=int, default=10, help="Otherwise the last N per partition.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new records.")
@click.option(
    "--where", "wheres", multiple=True, help="FIELD=VALUE on the JSON, e.g. severity=high."
)
@click.option("--grep", default=None, help="Only records containing this text (any case).")
@click.option("--json", "as_json", is_flag=True, help="Print each record value as it is.")
@click.option("--count", type=int, default=None, help="Exit after this many records.")
@click.option("--timeout", type=float, default=None, help="With --follow: exit after idle seconds.")
def tail(
    topic: str,
    from_beginning: bool,
    since: str | None,
    lines: int,
    follow: bool,
    wheres: tuple[str, ...],
    grep: str | None,
    as_json: bool,
    count: int | None,
    timeout: float | None,
) -> None:
    """Print a topic's records (TOPIC may be raw, enriched, tagged, alerts, deadletter or a name)."""
    from aiokafka import AIOKafkaConsumer

    from schemas.base import utcnow
    from services.common.kafka import topic_partitions
    from services.ops.tail import Filter, format_record, keep, parse_since

    s = _settings()
    name = getattr(Topics.from_settings(s), topic, topic)
    try:
        filters = [Filter.parse(w) for w in wheres]
        start_at = parse_since(since, utcnow()) if since else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc

    async def go() -> None:
        from services.common.kafka import client_kwargs

        consumer = AIOKafkaConsumer(**client_kwargs(s), enable_auto_commit=False)
        await consumer.start()
        try:
            tps = (await topic_partitions(consumer, [name]))[name]
            if not tps:
                raise click.ClickException(f"no topic {name!r}")
            consumer.assign(tps)
            first = await consumer.beginning_offsets(tps)
            end = await consumer.end_offsets(tps)
            if start_at is not None:
                found = await consumer.offsets_for_times(
                    dict.fromkeys(tps, int(start_at.timestamp() * 1000))
                )
                for tp in tps:
                    consumer.seek(tp, found[tp].offset if found[tp] else end[tp])
            else:
                for tp in tps:
                    consumer.seek(
                        tp, first[tp] if from_beginning else max(first[tp], end[tp] - lines)
                    )
            n, idle = 0, 0.0
            while count is None or n < count:
                if not follow and all([await _caught_up(consumer, tp, end) for tp in tps]):
                    return
                batch = await consumer.getmany(timeout_ms=500)
                idle = 0.0 if batch else idle + 0.5
                if follow and timeout is not None and idle >= timeout:
                    return
                for tp, records in batch.items():
                    for r in records:
                        if not keep(r.value, filters, grep):
                            continue
                        if as_json:
                            click.echo((r.value or b"").decode("utf-8", "replace"))
                        else:
                            click.echo(
                                format_record(tp.partition, r.offset, r.timestamp, r.key, r.value)
                            )
                        n += 1
                        if count is not None and n >= count:
                            return
        finally:
            await consumer.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())


async def _caught_up(consumer: Any, tp: Any, end: dict[Any, int]) -> bool:
    return bool(await consumer.position(tp) >= end[tp])


# ---- dead letters --------------------------------------------------------------------------
@main.group()
def dlq() -> None:
    """Inspect the dead-letter topic and re-inject records after a fix."""


def _dlq_entries() -> list[Any]:
    from services.ops.dlq import read_all

    return asyncio.run(read_all(_settings()))


@dlq.command("list")
@click.option("--stage", default=None, help="Only this stage (enrichment, tagging, alerts).")
def dlq_list(stage: str | None) -> None:
    """One line per dead letter: partition@offset, stage, origin, attempts, error."""
    from services.ops.dlq import select

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

    from services.ops.dlq import select

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
    from services.ops.dlq import plan, reinject, select

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
    """Write the JSON Schema of every event (schemas/json/) and the AsyncAPI document."""
    from schemas.export import write
    from services.ops.asyncapi import write as write_asyncapi

    for p in [*write(), write_asyncapi()]:
        click.echo(str(p))


# ---- rules and offline analysis (no broker) ------------------------------------------------
@main.group()
def rules() -> None:
    """Alert rules: validate a rules file, or backtest it over archived articles."""


def _load_rules_or_fail(path: Path) -> list[Any]:
    from services.alerts.rules import RuleError, load_rules

    try:
        return load_rules(path)
    except RuleError as exc:
        for p in exc.problems:
            click.echo(p, err=True)
        raise click.ClickException(f"{len(exc.problems)} problem(s) in {path}") from exc


@rules.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def rules_check(file: Path) -> None:
    """Validate FILE; each problem is printed as file:line: field: message."""
    loaded = _load_rules_or_fail(file)
    click.echo(f"{file}: ok, {len(loaded)} rule(s): {', '.join(r.id for r in loaded)}")


@rules.command("backtest")
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON alert per line, then no summary.")
@click.option("--quiet", is_flag=True, help="Only the summary.")
def rules_backtest(file: Path, paths: tuple[str, ...], as_json: bool, quiet: bool) -> None:
    """Run the rules in FILE over archived articles (PATH... or - for stdin) and report what would fire."""
    from services.alerts.core import matching_rules
    from services.offline.analyze import Backtest, Result, read_inputs, run

    loaded = _load_rules_or_fail(file)
    report = Backtest()
    for r in run(read_inputs(list(paths)), loaded):
        if not isinstance(r, Result):
            report.skipped += 1
            where = f"{r.path}:{r.line}" if r.line else str(r.path)
            click.echo(f"skipped {where}: {r.error}", err=True)
            continue
        report.add(r, matching_rules(r.tagged, loaded))
        for a in r.alerts:
            if as_json:
                click.echo(a.model_dump_json())
            elif not quiet:
                click.echo(
                    f"[{a.severity}] {a.rule_id:22} story {a.story_id} "
                    f"article {a.article_id}: {a.title[:80]}"
                )
    if not as_json:
        for line in report.summary(loaded):
            click.echo(line)


@main.command()
@click.argument("paths", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "pretty"]), default="jsonl")
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Rules file (default: the configured one).",
)
def analyze(paths: tuple[str, ...], fmt: str, rules_file: Path | None) -> None:
    """enrich -> tag -> evaluate PATH... (or - for stdin) with no broker: one line per article, in order."""
    from services.offline.analyze import Result, analyze_record, pretty, read_inputs, run
    from services.text.taxonomy import load_taxonomy

    s = _settings()
    loaded = _load_rules_or_fail(rules_file or s.rules_file)
    taxonomy = load_taxonomy(s.taxonomy_file)
    for r in run(read_inputs(list(paths)), loaded, taxonomy=taxonomy):
        if not isinstance(r, Result):
            where = f"{r.path}:{r.line}" if r.line else str(r.path)
            click.echo(f"skipped {where}: {r.error}", err=True)
        elif fmt == "jsonl":
            click.echo(json.dumps(analyze_record(r), ensure_ascii=False))
        else:
            click.echo(pretty(r))


# ---- the main job --------------------------------------------------------------------------
@main.command()
@click.option("--timeout", type=float, default=120.0, help="Seconds to wait for alerts.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def demo(timeout: float, paths: tuple[Path, ...]) -> None:
    """Start a fresh stack and the five services, subscribe, replay seeds/, print the alerts, stop."""
    from schemas import Alert
    from services.delivery.live import alerts, format_alert
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
    received: list[Alert] = []

    async def go(procs: dict[str, Any]) -> int:
        ready = asyncio.Event()

        async def collect() -> None:
            async for alert in alerts(s.redis, RedisKeys(s.redis_prefix).all_alerts, ready):
                if isinstance(alert, Alert):
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

    _stop_on_signals()
    try:
        if st is not None:
            click.echo("starting Kafka and Redis (first run resolves the Kafka jars with Maven)...")
            st.up()
        _create_topics(s)
        with running_services(env=env, log_dir=s.state_dir / "logs") as procs:
            click.echo("services started: " + ", ".join(SERVICES))
            published = asyncio.run(go(procs))
    except KeyboardInterrupt:
        click.echo("interrupted; stopping everything")
        sys.exit(130)
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


register_ops(main, topics)  # status, topics create|describe|reset-offsets (services/cli/ops.py)


# ---- performance ---------------------------------------------------------------------------
def _bench_command() -> click.Command:
    from services.bench.command import bench

    return bench


main.add_command(_bench_command())


if __name__ == "__main__":
    main()
