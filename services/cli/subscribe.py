"""`newswire subscribe` and `newswire subscriptions ...`: alerts out to people."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from services.cli.shell import SEVERITIES, _settings
from services.common.settings import Settings
from services.common.tasks import stop_tasks
from services.common.topics import RedisKeys
from services.delivery.render import terminal_safe

_IDLE: Any = object()  # no alert for a moment: print what is grouped
_SEV = {"low": "\x1b[37m", "medium": "\x1b[33m", "high": "\x1b[31m", "critical": "\x1b[1;41m"}


def same_update(a: Any, b: Any) -> bool:
    """Two alerts of one story update: the same story, raised by the same article."""
    return bool(a.story_id == b.story_id and a.article_id == b.article_id)


def format_story_update(alerts: Sequence[Any], colour: bool = False) -> str:
    """One line for the alerts an article raised in its story: severity (and rise), place, rules,
    article count, title."""
    top = max(alerts, key=lambda a: SEVERITIES.index(a.severity))
    sev = top.severity.upper()
    if colour:
        sev = f"{_SEV[top.severity]}{sev}\x1b[0m"
    rises = [a for a in alerts if a.previous_severity]
    change = f" (was {rises[0].previous_severity})" if rises else ""
    loc = top.event_location
    where = f"{loc.name}, {loc.country}" if loc and loc.country and loc.kind != "country" else ""
    where = where or (loc.name if loc else ",".join(top.countries) or "?")
    rules = ",".join(sorted({a.rule_id for a in alerts}))
    n = max(a.story_articles for a in alerts)
    line = f"{change} story {top.story_id} · {where} · {rules} · {n} article(s) · {top.title[:100]}"
    return f"[{sev}]" + terminal_safe(line)  # only our own colour codes reach the terminal


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
@click.option(
    "--count", type=int, default=None, help="Exit after this many lines (alerts with --json)."
)
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
    """Print alerts as they arrive (after the missed ones, with --since): one line per story
    update (the rules one article raised in its story), or one JSON alert per line."""
    from schemas import Alert, Digest, Subscription
    from services.delivery.follow import follow
    from services.delivery.live import format_digest

    s = _settings()
    keys = RedisKeys(s.redis_prefix)
    channel = pattern or (keys.subscription(subscription) if subscription else keys.all_alerts)
    flt = Subscription(
        name="cli",
        min_severity=severity or "low",
        rules=list(rules),
        countries=[c.upper() for c in countries],
    )

    colour = sys.stdout.isatty()

    async def go() -> None:
        if as_json:
            n = 0
            async for each in follow(s, channel=channel, flt=flt, since=since):
                click.echo(each.model_dump_json())
                n += 1
                if count is not None and n >= count:
                    return
            return
        # one line per story update: the alerts one article raised in its story (several rules,
        # delivered one after the other) are printed together
        queue: asyncio.Queue[Alert | Digest | None] = asyncio.Queue()

        async def pump() -> None:
            async for got in follow(s, channel=channel, flt=flt, since=since):
                await queue.put(got)
            await queue.put(None)

        task = asyncio.create_task(pump())
        n = 0
        group: list[Alert] = []
        try:
            while count is None or n < count:
                item: Alert | Digest | None
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=0.3 if group else None)
                except TimeoutError:
                    item = None if task.done() else _IDLE
                if group and (not isinstance(item, Alert) or not same_update(group[0], item)):
                    click.echo(format_story_update(group, colour=colour))
                    group, n = [], n + 1
                    if count is not None and n >= count:
                        break
                if item is None:
                    break
                if isinstance(item, Digest):
                    click.echo(format_digest(item))
                    n += 1
                elif isinstance(item, Alert):
                    group.append(item)
        finally:
            await stop_tasks([task])

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())


@click.group()
def subscriptions() -> None:
    """Named server-side subscriptions: filters kept in Redis, matches on their own channel."""


def parse_period(text: str) -> int:
    """`15m`, `1h`, `90s`, `0`, or a bare number of minutes, as seconds."""
    t = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        if t and t[-1] in units:
            return int(float(t[:-1]) * units[t[-1]])
        return int(float(t) * 60)
    except ValueError:
        raise click.BadParameter(f"{text!r}: use e.g. 15m, 1h, 90s or 0") from None


@subscriptions.command("add")
@click.argument("name")
@click.option("--severity", type=click.Choice(list(SEVERITIES)), default="low")
@click.option("--rule", "rules", multiple=True, help="Rule ids (repeatable); none = any.")
@click.option("--country", "countries", multiple=True, help="ISO codes (repeatable); none = any.")
@click.option(
    "--rate-limit", type=int, default=None, help="Alerts per window; the rest go to a digest."
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="KIND:VALUE",
    help="Where matches go (repeatable), e.g. slack:URL, webhook:URL, email:a@x.org,b@x.org, "
    "telegram:@chan, or kind=telegram,chat=@chan,token_env=VAR for every field of a kind.",
)
@click.option("--atom", is_flag=True, help="An Atom feed of the matches (prints its URL).")
@click.option("--webhook", default=None, metavar="URL", help="= --target webhook:URL (signed).")
@click.option("--slack", default=None, metavar="URL", help="= --target slack:URL.")
@click.option("--teams", default=None, metavar="URL", help="= --target teams:URL.")
@click.option("--discord", default=None, metavar="URL", help="= --target discord:URL.")
@click.option("--telegram", default=None, metavar="CHAT", help="= --target telegram:CHAT.")
@click.option(
    "--token-env",
    default=None,
    metavar="VAR",
    help="Environment variable holding the Telegram bot token (read by `newswire run webhooks`).",
)
@click.option("--email", "emails", multiple=True, metavar="ADDR", help="E-mail (repeatable).")
@click.option(
    "--digest",
    default="15m",
    show_default=True,
    help="E-mail digest period for non-critical alerts (critical: at once; 0: all at once).",
)
def subscriptions_add(
    name: str,
    severity: str,
    rules: tuple[str, ...],
    countries: tuple[str, ...],
    rate_limit: int | None,
    targets: tuple[str, ...],
    atom: bool,
    webhook: str | None,
    slack: str | None,
    teams: str | None,
    discord: str | None,
    telegram: str | None,
    token_env: str | None,
    emails: tuple[str, ...],
    digest: str,
) -> None:
    """Add (or replace) a named subscription with its targets."""
    from pydantic import ValidationError

    from schemas import Subscription
    from services.delivery.atom import feed_url
    from services.delivery.registry import blocked, check, describe

    if token_env and not telegram:
        raise click.BadParameter("--token-env goes with --telegram CHAT")
    s = _settings()
    try:
        sub = Subscription(
            name=name,
            min_severity=severity,
            rules=list(rules),
            countries=[c.upper() for c in countries],
            rate_limit_per_min=rate_limit,
            atom=atom,
            targets=_targets(
                targets,
                {"webhook": webhook, "slack": slack, "teams": teams, "discord": discord},
                telegram,
                token_env,
                emails,
                parse_period(digest),
            ),
        )
    except (ValidationError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from exc
    errors = check(sub)
    if errors:
        raise click.BadParameter("; ".join(errors))
    refused, unresolved = asyncio.run(blocked(sub, s))
    if refused:  # names the setting that lets an internal receiver through
        raise click.BadParameter("; ".join(refused))
    for note in unresolved:
        click.echo(f"{note}: checked again at every send", err=True)
    asyncio.run(_with_store(s, lambda st: st.add(sub)))
    click.echo(f"subscription {name}: channel {RedisKeys(s.redis_prefix).subscription(name)}")
    if sub.targets and not s.subscription_key:
        click.echo("NEWSWIRE_SUBSCRIPTION_KEY unset: its targets are stored in plain text")
    if atom:
        token = s.api_token.get_secret_value() if s.api_token else None
        click.echo(f"atom feed: {feed_url(s.public_dashboard, name, token)}")
    described = describe(sub)
    if described:
        click.echo(f"targets: {described} (delivered by `newswire run webhooks`)")
    if any(t.kind == "webhook" for t in sub.targets):
        _show_signing_key(s, name)


def _show_signing_key(s: Settings, name: str) -> None:
    """The subscription's webhook signing key, for its receiver: printed here once, never logged
    (it is derived from NEWSWIRE_WEBHOOK_SECRET and the name, so nothing stores it)."""
    from services.delivery.webhooks import subscriber_key

    if not s.webhook_secret:
        click.echo("NEWSWIRE_WEBHOOK_SECRET unset: its webhooks are dead-lettered until it is set")
        return
    click.echo(
        "webhook signing key (Standard Webhooks; give it to the receiver, it is not shown again): "
        + subscriber_key(s.webhook_secret.get_secret_value(), name)
    )


def _targets(
    given: Sequence[str],
    urls: dict[str, str | None],
    telegram: str | None,
    token_env: str | None,
    emails: Sequence[str],
    digest_s: int,
) -> list[Any]:
    """The `--target`s, then the targets of the shortcut options (`--slack URL` is
    `--target slack:URL`: the options people already use). The digest period goes to every
    e-mail target that does not set its own."""
    from schemas import Target
    from services.delivery.registry import target

    out = [target(t) for t in given]
    out += [Target(kind=k, fields={"url": u}) for k, u in urls.items() if u]
    if telegram:
        fields: dict[str, Any] = {"chat": telegram}
        if token_env:
            fields["token_env"] = token_env
        out.append(Target(kind="telegram", fields=fields))
    if emails:
        out.append(Target(kind="email", fields={"to": list(emails)}))
    for t in out:
        if t.kind == "email":
            t.fields.setdefault("digest_s", digest_s)
    return out


@subscriptions.command("list")
@click.option("--json", "as_json", is_flag=True)
def subscriptions_list(as_json: bool) -> None:
    from services.delivery.registry import describe, described_targets

    s = _settings()
    subs = asyncio.run(_with_store(s, lambda st: st.list()))
    for sub in subs:
        if as_json:  # the targets as `describe` shows them: their fields may be credentials
            record = sub.model_dump(mode="json", exclude={"targets"})
            click.echo(json.dumps({**record, "targets": described_targets(sub)}))
        else:
            targets = describe(sub)
            click.echo(
                f"{sub.name}: severity>={sub.min_severity} rules={','.join(sub.rules) or '*'} "
                f"countries={','.join(sub.countries) or '*'} "
                f"rate={sub.rate_limit_per_min or 'unlimited'}/window"
                + (f" -> {targets}" if targets else "")
            )


@subscriptions.command("test")
@click.argument("name")
def subscriptions_test(name: str) -> None:
    """Send a sample alert to every target of subscription NAME (e-mail at once, no digest)."""
    from services.common.redisconn import make_redis
    from services.delivery.atom import feed_url
    from services.delivery.dispatch import Config, Deliverer, Outcome
    from services.delivery.render import sample_alert
    from services.delivery.retry import outbound_client

    s = _settings()
    keys = RedisKeys(s.redis_prefix)

    async def go() -> tuple[Any, list[Outcome]]:
        client = make_redis(s)
        try:
            sub = await _store(client, s).get(name)
            if sub is None or not sub.targets:
                return sub, []
            config = Config.from_settings(s)
            async with outbound_client(config) as http:
                d = Deliverer(client, keys, http, config, attempts=2)
                return sub, await d.test(sub, sample_alert())
        finally:
            await client.aclose()

    sub, outcomes = asyncio.run(go())
    if sub is None:
        raise click.ClickException(f"no subscription named {name!r}")
    if sub.atom:
        token = s.api_token.get_secret_value() if s.api_token else None
        click.echo(
            f"atom: {feed_url(s.public_dashboard, name, token)} (serves the stream's alerts)"
        )
    for o in outcomes:
        state = "sent" if o.delivered else "FAILED " + "; ".join(o.errors[-2:])
        click.echo(f"{o.target}: {state} ({o.attempts} attempt(s))")
    if not outcomes and not sub.atom:
        click.echo(f"subscription {name} has no targets (only its Redis channel)")
    if any(not o.delivered for o in outcomes):
        raise SystemExit(1)


@subscriptions.command("remove")
@click.argument("name")
def subscriptions_remove(name: str) -> None:
    if not asyncio.run(_with_store(_settings(), lambda st: st.remove(name))):
        raise click.ClickException(f"no subscription named {name!r}")
    click.echo(f"removed {name}")


def _store(client: Any, s: Settings) -> Any:
    """The subscription store, sealing and opening targets with the configured key."""
    from services.delivery.subscriptions import Sealer, SubscriptionStore

    key = s.subscription_key.get_secret_value() if s.subscription_key else None
    return SubscriptionStore(client, RedisKeys(s.redis_prefix), Sealer.of(key))


async def _with_store(s: Settings, op: Any) -> Any:
    from services.common.redisconn import make_redis

    client = make_redis(s)
    try:
        return await op(_store(client, s))
    finally:
        await client.aclose()
