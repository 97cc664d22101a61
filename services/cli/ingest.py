"""`newswire replay` and `newswire feeds ...`: articles in from files, archives and feeds."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from services.cli.shell import _settings
from services.common.redact import mask_url
from services.ingest.feeds.health import feed_key, feed_name


@click.command()
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


@click.group()
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
    click.echo(("added " if added else "updated ") + feed_name(url))


@feeds.command("remove")
@click.argument("url")
def feeds_remove(url: str) -> None:
    if not _with_feed_store(lambda store: store.remove(url)):
        raise click.ClickException(f"no such feed: {feed_name(url)}")
    click.echo(f"removed {feed_name(url)}")


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
        click.echo(f"{row['id']}  {row['url']}  every {row['interval_s']:.0f}s  {row['status']}")


@feeds.command("status")
@click.argument("url", required=False)
@click.option("--json", "as_json", is_flag=True)
def feeds_status(url: str | None, as_json: bool) -> None:
    """Health of every feed (or one): last success, last error, items per day, failures."""

    rows = [r for r in _feed_rows() if url is None or r["id"] in (url, feed_key(url))]
    if url is not None and not rows:
        raise click.ClickException(f"no such feed: {mask_url(url)}")
    for row in rows:
        if as_json:
            click.echo(json.dumps(row))
            continue
        click.echo(f"{row['id']} {row['url']}: {row['status']}")
        for k, v in row.items():
            if k not in ("id", "url", "status"):
                click.echo(f"    {k:21} {v}")
    if any(r["status"] in ("failing", "stale") for r in rows):
        sys.exit(2)
