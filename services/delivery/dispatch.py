"""Every target of the named subscriptions, fed from the alert stream (`newswire run webhooks`).

For each alert and each subscription it matches: the signed webhook, Slack, Teams, Telegram and
Discord messages (one per alert, paced per target, 429 `retry_after` respected, retried, then
dead-lettered), and e-mail (critical at once, the rest batched for the subscription's `digest_s`).
The same chat target named by two subscriptions gets the alert once. Dead letters go to
`<prefix>:stream:webhooks:dead` with `kind` and a `target` label that never contains a secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from schemas import Alert, Subscription
from services.common.settings import Settings
from services.common.topics import RedisKeys
from services.delivery.chat import ChatTarget, Pacer, chat_targets
from services.delivery.mail import MailBatches, SmtpConfig, build_message, immediate, send_mail
from services.delivery.render import view
from services.delivery.retry import (
    WebhookResult,
    dead_record,
    post_with_retries,
    redis_dead_letter,
)
from services.delivery.subscriptions import SubscriptionStore, matches
from services.delivery.webhooks import dead_stream, deliver_webhook

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    kind: str
    target: str  # a label, never a secret
    delivered: bool
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    queued: bool = False  # e-mail waiting for its digest


@dataclass
class Config:
    dashboard: str = "http://127.0.0.1:8081"
    webhook_secret: str | None = None
    telegram_api: str = "https://api.telegram.org"
    telegram_token: str | None = None
    smtp: SmtpConfig | None = None
    max_retry_after_s: float = 60.0

    @classmethod
    def from_settings(cls, s: Settings) -> Config:
        return cls(
            dashboard=s.public_dashboard,
            webhook_secret=s.webhook_secret,
            telegram_api=s.telegram_api_url,
            telegram_token=(
                s.telegram_bot_token.get_secret_value() if s.telegram_bot_token else None
            ),
            smtp=SmtpConfig.from_settings(s),
            max_retry_after_s=s.chat_max_retry_after_s,
        )


class Deliverer:
    def __init__(
        self,
        client: aioredis.Redis,
        keys: RedisKeys,
        http: aiohttp.ClientSession,
        config: Config,
        *,
        env: Mapping[str, str] | None = None,
        pacer: Pacer | None = None,
        **retry: Any,
    ) -> None:
        self.keys = keys
        self.http = http
        self.config = config
        self.env = os.environ if env is None else env
        self.pacer = pacer or Pacer()
        self.retry = retry
        self.dead = redis_dead_letter(client, dead_stream(keys))
        self.batches = MailBatches(client, keys)
        self.store = SubscriptionStore(client, keys)

    def chat(self, sub: Subscription) -> list[ChatTarget]:
        return chat_targets(
            sub,
            telegram_api=self.config.telegram_api,
            telegram_token=self.config.telegram_token,
            env=self.env,
        )

    async def alert(
        self, subs: Sequence[Subscription], alert: Alert, also: Sequence[Alert] = ()
    ) -> list[Outcome]:
        """Every target of every subscription the alert matches (each chat/webhook target once).
        `also`: the other rules' alerts of the same story update: a person gets one message
        naming every rule; the signed webhook, for machines, still gets each alert."""
        jobs: dict[tuple[str, str], Any] = {}
        group = [alert, *also]
        for sub in subs:
            mine = [a for a in group if matches(sub, a)]
            if not mine:
                continue
            for key, job in self._jobs(sub, mine[0], mail_now=False, group=mine):
                jobs.setdefault(key, job)
        return list(await asyncio.gather(*(job() for job in jobs.values())))

    async def test(self, sub: Subscription, alert: Alert) -> list[Outcome]:
        """`subscriptions test`: one message to each target of `sub`, e-mail at once."""
        return list(await asyncio.gather(*(j() for _, j in self._jobs(sub, alert, mail_now=True))))

    def _jobs(
        self,
        sub: Subscription,
        alert: Alert,
        *,
        mail_now: bool,
        group: Sequence[Alert] = (),
    ) -> list[tuple[tuple[str, str], Callable[[], Awaitable[Outcome]]]]:
        """(dedupe key, start) of each target: only the kept ones are started."""
        out: list[tuple[tuple[str, str], Callable[[], Awaitable[Outcome]]]] = []
        alerts = list(group) or [alert]
        rules = [a.rule_id for a in alerts]
        if sub.webhook_url:
            url = sub.webhook_url

            async def each() -> Outcome:
                done = [await self._webhook(url, a) for a in alerts]
                return next((o for o in done if not o.delivered), done[-1])

            out.append((("webhook", url), each))
        for t in self.chat(sub):
            out.append(((t.kind, t.url), lambda t=t: self._chat(t, alert, rules)))  # type: ignore[misc]
        if sub.email:
            key = ("email", sub.name)
            if mail_now or immediate(sub, alert):
                out.append((key, lambda: self.mail(sub, [alert])))
            else:
                out.append((key, lambda: self._queue(sub, alert)))
        return out

    async def _webhook(self, url: str, alert: Alert) -> Outcome:
        if not self.config.webhook_secret:
            r = WebhookResult(
                False, 0, errors=["NEWSWIRE_WEBHOOK_SECRET unset: webhooks are signed"]
            )
            await self.dead(
                dead_record(alert_id=alert.id, target=url, result=r, alert=_dump(alert))
            )
            return Outcome("webhook", url, False, 0, r.errors)
        r = await deliver_webhook(
            alert,
            url,
            self.config.webhook_secret,
            session=self.http,
            dead_letter=self.dead,
            max_retry_after_s=self.config.max_retry_after_s,
            **self.retry,
        )
        return Outcome("webhook", url, r.delivered, r.attempts, r.errors)

    async def _chat(self, t: ChatTarget, alert: Alert, rules: Sequence[str] = ()) -> Outcome:
        if t.error:
            r = WebhookResult(False, 0, errors=[t.error])
        else:
            body = t.body(view(alert, self.config.dashboard, rules))
            await self.pacer.wait(t.kind, t.url)
            r = await post_with_retries(
                self.http,
                t.url,
                body,
                lambda: {"Content-Type": "application/json; charset=utf-8"},
                label=t.label,
                secrets=t.secrets,
                max_retry_after_s=self.config.max_retry_after_s,
                **self.retry,
            )
        if not r.delivered:
            log.warning("%s delivery of alert %s failed: %s", t.label, alert.id, r.errors[-1:])
            await self.dead(
                dead_record(
                    alert_id=alert.id, target=t.label, result=r, alert=_dump(alert), kind=t.kind
                )
            )
        return Outcome(t.kind, t.label, r.delivered, r.attempts, r.errors)

    async def _queue(self, sub: Subscription, alert: Alert) -> Outcome:
        await self.batches.add(sub.name, alert)
        return Outcome("email", f"email:{sub.name}", False, 0, queued=True)

    async def mail(self, sub: Subscription, alerts: Sequence[Alert]) -> Outcome:
        label = f"email:{sub.name}"
        cfg = self.config.smtp
        if cfg is None:
            errors = ["NEWSWIRE_SMTP_HOST unset: no e-mail"]
            delivered, attempts = False, 0
        else:
            msg = build_message(
                alerts,
                sub=sub.name,
                to=sub.email,
                sender=cfg.sender,
                dashboard=self.config.dashboard,
            )
            res = await send_mail(msg, cfg, **_mail_retry(self.retry))
            delivered, attempts, errors = res.delivered, res.attempts, res.errors
        if not delivered:
            log.warning("%s: %d alert(s) not e-mailed: %s", label, len(alerts), errors[-1:])
            r = WebhookResult(False, attempts, errors=errors)
            await self.dead(
                dead_record(
                    alert_id=",".join(a.id for a in alerts),
                    target=label,
                    result=r,
                    alert=[_dump(a) for a in alerts],
                    kind="email",
                )
            )
        return Outcome("email", label, delivered, attempts, errors)

    async def flush_mail(
        self, subs: Sequence[Subscription], now: float | None = None
    ) -> list[Outcome]:
        """Sends the digest of every e-mail subscription whose oldest waiting alert is due."""
        out = []
        for sub in subs:
            if sub.email and await self.batches.due(sub, now):
                alerts = await self.batches.take(sub.name)
                if alerts:
                    out.append(await self.mail(sub, alerts))
        return out


def _dump(alert: Alert) -> dict[str, Any]:
    return alert.model_dump(mode="json")


def _mail_retry(retry: Mapping[str, Any]) -> dict[str, Any]:
    return {k: retry[k] for k in ("attempts", "base_delay_s") if k in retry}


def story_updates(alerts: Sequence[Alert]) -> list[tuple[Alert, list[Alert]]]:
    """The alerts of one read grouped by story update (story, article, severity), in order:
    one article that raises five rules is one update, so a person gets one message."""
    groups: dict[tuple[str, str, str], list[Alert]] = {}
    for a in alerts:
        groups.setdefault((a.story_id, a.article_id, a.severity), []).append(a)
    return [(g[0], g[1:]) for g in groups.values()]


def has_targets(sub: Subscription) -> bool:
    return bool(
        sub.webhook_url
        or sub.slack_url
        or sub.teams_url
        or sub.discord_url
        or sub.telegram_chat
        or sub.email
    )


async def dispatch(
    client: aioredis.Redis,
    keys: RedisKeys,
    config: Config,
    *,
    group: str = "webhooks",
    consumer: str = "dispatcher-1",
    block_ms: int = 2000,
    mail_every_s: float = 10.0,
    env: Mapping[str, str] | None = None,
    **retry: Any,
) -> None:
    """Reads the alert stream in a consumer group and delivers each alert to the targets of every
    named subscription it matches; an entry is acknowledged after delivery, dead-lettering or
    queueing, so a crash re-delivers it (at-least-once; receivers dedupe on the alert id). Every
    `mail_every_s` the due e-mail digests go out. Until cancelled."""
    with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists
        await client.xgroup_create(keys.stream, group, id="$", mkstream=True)
    cursor = "0"  # first our own pending entries, then new ones
    flushed = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        deliverer = Deliverer(client, keys, http, config, env=env, **retry)
        while True:
            got: Any = await client.xreadgroup(
                group, consumer, {keys.stream: cursor}, count=100, block=block_ms
            )
            entries = [e for _, batch in got or [] for e in batch]
            subs = [s for s in await deliverer.store.list() if has_targets(s)]
            if entries:
                for lead, others in story_updates(
                    [
                        Alert.model_validate_json(fields[b"alert"])
                        for _, fields in entries
                        if fields and b"alert" in fields
                    ]
                ):
                    await deliverer.alert(subs, lead, others)
                for eid, _ in entries:
                    await client.xack(keys.stream, group, eid)
            elif cursor == "0":
                cursor = ">"
            if time.monotonic() - flushed >= mail_every_s:
                flushed = time.monotonic()
                await deliverer.flush_mail(subs)
