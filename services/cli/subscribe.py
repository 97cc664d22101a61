"""`newswire subscribe` and `newswire subscriptions ...`: alerts out to people."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any

import click

from services.cli.shell import SEVERITIES, _settings
from services.common.settings import Settings
from services.common.topics import RedisKeys


@click.command()
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


@click.group()
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
