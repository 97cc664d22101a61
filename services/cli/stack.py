"""`newswire stack up|status|down` and `newswire health`: the local Kafka + Redis stack."""

from __future__ import annotations

import asyncio
import sys

import click

from services.cli.shell import _settings
from services.common.settings import Settings
from services.devstack.stack import LocalStack, StackError, wait_ready


@click.group()
def stack() -> None:
    """The local Kafka + Redis stack (nothing is started when KAFKA_BOOTSTRAP_SERVERS/REDIS_URL are set)."""


@stack.command("up")
def stack_up() -> None:
    s = _settings()
    if s.external:
        asyncio.run(wait_ready(s))
        click.echo(f"using external Kafka {s.bootstrap} and Redis {s.redis_shown}")
        return
    try:
        started = LocalStack(s).up()
        _create_topics(s)
    except StackError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"stack up (started: {', '.join(started) or 'nothing, already running'}); "
        f"Kafka {s.bootstrap}, Redis {s.redis_shown}"
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
    from services.cli.topics import apply_topics  # partitions, retention, compaction

    for change in asyncio.run(apply_topics(s)):
        click.echo(change)


@click.command()
def health() -> None:
    """Exit 0 when Kafka answers metadata and Redis answers PING (container health checks)."""
    from services.common.probes import kafka_ready, redis_ready

    s = _settings()

    async def check() -> dict[str, bool]:
        return {"kafka": await kafka_ready(s), "redis": await redis_ready(s)}

    result = asyncio.run(check())
    click.echo(" ".join(f"{k}={'ok' if v else 'DOWN'}" for k, v in result.items()))
    if not all(result.values()):
        sys.exit(1)
