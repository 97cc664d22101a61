"""The delivery channels, by kind: the one list to add a channel to (its module's `CHANNEL`)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from aiohttp.abc import AbstractResolver
from yarl import URL

from schemas import Subscription, Target
from services.common.outbound import Blocked, GuardedResolver, check_target, networks
from services.common.settings import Settings
from services.delivery import discord, mail, slack, teams, telegram, webhooks
from services.delivery.channel import Channel

CHANNELS: dict[str, Channel[Any]] = {
    c.kind: c
    for c in (
        webhooks.CHANNEL,
        slack.CHANNEL,
        teams.CHANNEL,
        discord.CHANNEL,
        telegram.CHANNEL,
        mail.CHANNEL,
    )
}


def resolve(target: Target, *, strict: bool = False) -> tuple[Channel[Any], Any]:
    """The target's channel and its validated fields; ValueError for a kind this version does not
    have or fields its channel rejects (with `strict`, also fields it does not know)."""
    channel = CHANNELS.get(target.kind)
    if channel is None:
        raise ValueError(f"no channel {target.kind!r} (there are {', '.join(CHANNELS)})")
    if target.sealed:
        raise ValueError("sealed: NEWSWIRE_SUBSCRIPTION_KEY unset or not the key that sealed it")
    return channel, channel.validate(target, strict=strict)


def check(sub: Subscription) -> list[str]:
    """What is wrong with a subscription's targets, before it is stored."""
    errors = []
    digests = 0
    for t in sub.targets:
        try:
            channel, spec = resolve(t, strict=True)
        except ValueError as exc:
            errors.append(f"{t.kind}: {exc}")
            continue
        digests += channel.digest_s(spec) is not None
    if digests > 1:
        errors.append("one digest per subscription: list every recipient in one e-mail target")
    return errors


async def blocked(
    sub: Subscription,
    settings: Settings,
    *,
    resolver: AbstractResolver | None = None,
    wait_s: float = 5.0,
) -> tuple[list[str], list[str]]:
    """The targets the outbound guard would refuse, before the subscription is stored: a URL
    whose host is an internal address, or resolves to one now, unless `outbound_allow` lets it
    through (the guard checks again at every connection: DNS can change). Also the hosts that do
    not resolve now (a warning: a receiver not set up yet is not an error)."""
    guard = GuardedResolver(networks(settings), resolver)
    errors: list[str] = []
    unresolved: list[str] = []
    try:
        for t in sub.targets:
            try:
                channel, spec = resolve(t)
            except ValueError:
                continue  # `check` says why
            for url in channel.urls(spec):
                try:
                    target = URL(url)
                    check_target(target, guard.allow)
                    async with asyncio.timeout(wait_s):
                        await guard.resolve(target.host or "", target.port or 0, socket.AF_UNSPEC)
                except Blocked as exc:
                    errors.append(f"{t.kind}: {exc}")
                except ValueError:
                    errors.append(f"{t.kind}: not a usable URL")
                except (OSError, TimeoutError):
                    unresolved.append(f"{t.kind}: {target.host} does not resolve now")
    finally:
        await guard.close()
    return errors, unresolved


def describe(sub: Subscription) -> str:
    """The targets of a subscription for people, with no secret in it (webhook URLs are
    credentials)."""
    return " ".join((["atom"] if sub.atom else []) + described_targets(sub))


def described_targets(sub: Subscription) -> list[str]:
    out = []
    for t in sub.targets:
        try:
            channel, spec = resolve(t)
        except ValueError:
            out.append(f"{t.kind}:({'sealed' if t.sealed else 'invalid'})")
            continue
        out.append(channel.describe(spec, sub.name))
    return out


def target(text: str) -> Target:
    """A target from the command line: `KIND:VALUE` (the channel's main field, e.g.
    `slack:https://hooks.slack.com/...`, `email:a@example.org,b@example.org`) or
    `kind=KIND,FIELD=VALUE,...` (e.g. `kind=telegram,chat=@desk,token_env=DESK_BOT`)."""
    head, sep, rest = text.partition(":")
    if sep and "=" not in head:
        channel = CHANNELS.get(head.strip())
        if channel is None:
            raise ValueError(f"no channel {head.strip()!r} (there are {', '.join(CHANNELS)})")
        return Target(kind=channel.kind, fields={channel.main: rest})
    fields: dict[str, Any] = {}
    for part in text.split(","):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"{text!r}: use KIND:VALUE or kind=KIND,field=value,...")
        fields[key.strip()] = value.strip()
    kind = fields.pop("kind", None)
    if not kind:
        raise ValueError(f"{text!r}: kind=... missing")
    return Target(kind=kind, fields=fields)
