"""Chat targets: one message per alert in Slack, Microsoft Teams, Telegram and Discord.

Each payload follows the platform's documented incoming shape and limits:

- Slack incoming webhook: `text` (the notification fallback) + Block Kit `blocks` (header <= 150
  plain-text characters, section mrkdwn <= 3000, button text <= 75, url <= 3000, <= 50 blocks);
  `&`, `<`, `>` escaped in mrkdwn. 429 comes with a `Retry-After` header.
- Teams webhook (connector or Workflows): a `message` whose attachment is an Adaptive Card 1.4
  (`application/vnd.microsoft.card.adaptive`); body under 28 KB.
- Telegram Bot API `sendMessage`: HTML parse mode, only the allowed tags, `&<>"` escaped, text
  <= 4096 characters; 429 carries `parameters.retry_after`.
- Discord webhook: embeds (title <= 256, description <= 4096, <= 25 fields, name <= 256, value
  <= 1024, footer <= 2048, <= 6000 characters in all), `allowed_mentions` empty so article text
  can never ping anyone; 429 carries `retry_after`.

Secrets: a Slack, Teams or Discord webhook URL is a credential, and so is a Telegram bot token;
messages about a target name it by `label` (platform, host and a short hash), never by its URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from schemas import Subscription
from services.delivery.render import AlertView, clip, stamp

# ---- Slack -----------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(url: str, text: str) -> str:
    return f"<{slack_escape(url)}|{slack_escape(text).replace('|', '¦')}>"


def slack_payload(v: AlertView) -> dict[str, Any]:
    head = f"{v.emoji} {v.label} · {v.what}".strip()
    headline = clip(v.headline, 300)
    title = _slack_link(v.article_url, headline) if v.article_url else slack_escape(headline)
    lines = [f"*{title}*"]
    if v.evidence:
        lines.append("> " + slack_escape(clip(v.evidence[0], 1200)))
    meta = [f"📍 {slack_escape(clip(v.where, 300))}" if v.where else "", f"🕒 {stamp(v.when)}"]
    meta.append(f"rule `{slack_escape(', '.join(v.rules))}` · score {v.score:.1f}")
    if v.story_articles > 1:
        meta.append(f"story of {v.story_articles} articles")
    buttons: list[dict[str, Any]] = []
    if v.article_url:
        buttons.append(_slack_button("Article", v.article_url, "article"))
    buttons.append(_slack_button("Dashboard", v.dashboard_url, "dashboard"))
    return {
        "text": slack_escape(
            clip(f"{head}: {v.headline}" + (f" ({v.where})" if v.where else ""), 300)
        ),
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": clip(head, 150), "emoji": True},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": clip(" · ".join(m for m in meta if m), 2000)}
                ],
            },
            {"type": "actions", "elements": buttons},
        ],
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _slack_button(text: str, url: str, action: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "url": url[:3000],
        "action_id": action,
    }


# ---- Microsoft Teams -------------------------------------------------------------------------

TEAMS_COLOUR = {"critical": "Attention", "high": "Attention", "medium": "Warning", "low": "Default"}


def teams_payload(v: AlertView) -> dict[str, Any]:
    facts = [{"title": "Where", "value": v.where}] if v.where else []
    facts += [
        {"title": "When", "value": stamp(v.when)},
        {"title": "Rule", "value": ", ".join(v.rules)},
        {"title": "Score", "value": f"{v.score:.1f}"},
    ]
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": f"{v.emoji} {v.label} · {clip(v.what, 200)}",
            "weight": "Bolder",
            "size": "Medium",
            "color": TEAMS_COLOUR.get(v.severity, "Default"),
            "wrap": True,
        },
        {"type": "TextBlock", "text": clip(v.headline, 400), "weight": "Bolder", "wrap": True},
        {"type": "FactSet", "facts": facts},
    ]
    if v.evidence:
        body.append(
            {
                "type": "TextBlock",
                "text": f"“{clip(v.evidence[0], 1000)}”",
                "wrap": True,
                "isSubtle": True,
            }
        )
    actions = [{"type": "Action.OpenUrl", "title": "Dashboard", "url": v.dashboard_url}]
    if v.article_url:
        actions.insert(0, {"type": "Action.OpenUrl", "title": "Article", "url": v.article_url})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": body,
        "actions": actions,
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


# ---- Telegram --------------------------------------------------------------------------------


def tg(text: str) -> str:
    """Telegram HTML: `&`, `<`, `>` and `"` as entities (the only ones it needs)."""
    return html.escape(text, quote=True).replace("&#x27;", "'")


def telegram_text(v: AlertView) -> str:
    title = f"<b>{tg(clip(v.headline, 300))}</b>"
    if v.article_url:
        title = f'<a href="{tg(v.article_url)}">{title}</a>'
    lines = [f"{v.emoji} <b>{tg(v.label)}</b> · {tg(clip(v.what, 200))}", title]
    meta = [f"📍 {tg(clip(v.where, 200))}" if v.where else "", f"🕒 {stamp(v.when)}"]
    lines.append(" · ".join(m for m in meta if m))
    if v.evidence:
        lines.append(f"<blockquote>{tg(clip(v.evidence[0], 1200))}</blockquote>")
    lines.append(
        f'<a href="{tg(v.dashboard_url)}">Dashboard</a> · rule <code>{tg(", ".join(v.rules))}</code>'
        f" · score {v.score:.1f}"
    )
    return "\n".join(lines)


def telegram_payload(v: AlertView, chat_id: str) -> dict[str, Any]:
    return {
        "chat_id": int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id,
        "text": telegram_text(v),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }


# ---- Discord ---------------------------------------------------------------------------------

_DISCORD_MD = str.maketrans({c: "\\" + c for c in "\\*_~`|>#[]()"})


def discord_escape(text: str) -> str:
    return text.translate(_DISCORD_MD)


def discord_payload(v: AlertView) -> dict[str, Any]:
    description = f"**{discord_escape(clip(v.what, 300))}**"
    if v.evidence:
        description += "\n> " + discord_escape(clip(v.evidence[0], 1500))
    links = ([f"[Article]({v.article_url})"] if v.article_url else []) + [
        f"[Dashboard]({v.dashboard_url})"
    ]
    embed: dict[str, Any] = {
        "title": clip(f"{v.emoji} {v.headline}", 256),
        "description": description,
        "color": v.colour,
        "fields": [
            {"name": "Severity", "value": v.label, "inline": True},
            {"name": "Where", "value": clip(v.where, 1024) or "—", "inline": True},
            {"name": "When", "value": stamp(v.when), "inline": True},
            {"name": "Links", "value": clip(" · ".join(links), 1024), "inline": False},
        ],
        "footer": {"text": clip(f"rule {', '.join(v.rules)} · score {v.score:.1f}", 2048)},
        "timestamp": v.when.isoformat(),
    }
    if v.article_url:
        embed["url"] = v.article_url
    return {"username": "newswire", "embeds": [embed], "allowed_mentions": {"parse": []}}


# ---- targets of a subscription ---------------------------------------------------------------

PACE_S = {"slack": 1.0, "teams": 0.25, "telegram": 1.0, "discord": 0.5}  # per target, documented


def label_of(kind: str, url: str) -> str:
    """How a target is named in logs and dead letters: never its (secret) URL."""
    host = urlsplit(url).hostname or "?"
    return f"{kind}:{host}#{hashlib.sha256(url.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class ChatTarget:
    kind: str
    url: str
    label: str
    build: Callable[[AlertView], dict[str, Any]]
    secrets: tuple[str, ...] = ()
    error: str | None = None  # a target that cannot be sent to (a missing token)

    def body(self, v: AlertView) -> bytes:
        return json.dumps(self.build(v), ensure_ascii=False).encode()


def chat_targets(
    sub: Subscription,
    *,
    telegram_api: str = "https://api.telegram.org",
    telegram_token: str | None = None,
    env: Mapping[str, str] | None = None,
) -> list[ChatTarget]:
    env = os.environ if env is None else env
    out: list[ChatTarget] = []
    if sub.slack_url:
        out.append(
            ChatTarget(
                "slack",
                sub.slack_url,
                label_of("slack", sub.slack_url),
                slack_payload,
                (sub.slack_url,),
            )
        )
    if sub.teams_url:
        out.append(
            ChatTarget(
                "teams",
                sub.teams_url,
                label_of("teams", sub.teams_url),
                teams_payload,
                (sub.teams_url,),
            )
        )
    if sub.discord_url:
        out.append(
            ChatTarget(
                "discord",
                sub.discord_url,
                label_of("discord", sub.discord_url),
                discord_payload,
                (sub.discord_url,),
            )
        )
    if sub.telegram_chat:
        chat = sub.telegram_chat
        token = env.get(sub.telegram_token_env, "") if sub.telegram_token_env else telegram_token
        label = f"telegram:chat={chat}"
        url = f"{telegram_api.rstrip('/')}/bot{token or ''}/sendMessage"
        missing = None
        if not token:
            where = sub.telegram_token_env or "NEWSWIRE_TELEGRAM_BOT_TOKEN"
            missing = f"no Telegram bot token: set {where} for the dispatcher"
        out.append(
            ChatTarget(
                "telegram",
                url,
                label,
                lambda v, chat=chat: telegram_payload(v, chat),  # type: ignore[misc]
                (token,) if token else (),
                missing,
            )
        )
    return out


@dataclass
class Pacer:
    """At most one message per `PACE_S[kind]` seconds to one target, under the platforms' limits
    (Slack: 1/s per webhook; Telegram: about 1/s per chat; Discord: 5 per 2 s; Teams: 4/s)."""

    pace: Mapping[str, float] = field(default_factory=lambda: dict(PACE_S))
    _next: dict[str, float] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def wait(self, kind: str, key: str) -> None:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            now = time.monotonic()
            at = self._next.get(key, now)
            if at > now:
                await asyncio.sleep(at - now)
            self._next[key] = max(at, now) + self.pace.get(kind, 0.0)
