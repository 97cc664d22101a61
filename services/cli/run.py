"""`newswire run SERVICE` and `newswire up`: the services in the foreground."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time

import click

from services.cli.shell import _settings, _stop_on_signals
from services.cli.stack import _create_topics
from services.common import logging as nlog
from services.common.settings import Settings
from services.common.topics import RedisKeys
from services.common.topology import EXTRA_SERVICES, SERVICES, stage
from services.devstack.stack import LocalStack, StackError
from services.devstack.supervise import ServiceDied, check_alive, running_services


@click.command("run")
@click.argument("service", type=click.Choice([*SERVICES, *EXTRA_SERVICES]))
def run(service: str) -> None:
    """Run one service in the foreground (its own process and consumer group)."""
    s = _settings()
    from aiohttp import web

    from services.common.kafka import wait_for_topics

    nlog.set_service(service)
    if service == "dashboard":  # before waiting for Kafka: a refusal is at once
        from services.dashboard.app import InsecureDashboard, check_bind

        try:
            check_bind(s)
        except InsecureDashboard as exc:
            raise click.ClickException(str(exc)) from exc
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
        from services.dashboard.app import AccessLogger
        from services.dashboard.app import make_app as make_dashboard

        web.run_app(
            make_dashboard(s),
            access_log_class=AccessLogger,
            host=s.http_host,
            port=s.dashboard_port,
            shutdown_timeout=2.0,  # open SSE connections would otherwise hold the exit
            print=lambda m: click.echo(m, err=True),
        )
        return
    import importlib

    from services.common.kafka import wait_for_broker
    from services.common.worker import run_worker

    build = importlib.import_module(stage(service).module).build  # the topology names it
    sys.argv = [sys.argv[0]]  # faust's worker reads argv
    app = build(s)  # loads taxonomies, models, gazetteers: seconds, during which Kafka may go
    wait_for_broker(s)
    run_worker(app, loglevel=s.log_level.lower())


def _run_webhooks(s: Settings) -> None:
    """Deliver alerts from the Redis stream to every target of matching subscriptions: signed
    webhooks, Slack, Teams, Telegram, Discord and e-mail."""
    from services.common.redisconn import make_redis
    from services.delivery.dispatch import Config, dispatch

    if not s.webhook_secret:
        click.echo(
            "NEWSWIRE_WEBHOOK_SECRET unset: --webhook targets will be dead-lettered (they are signed)",
            err=True,
        )

    async def go() -> None:
        client = make_redis(s)
        try:
            await dispatch(client, RedisKeys(s.redis_prefix), Config.from_settings(s))
        finally:
            await client.aclose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())


@click.command("up")
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
