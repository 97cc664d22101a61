"""Telegram Bot API `sendMessage`: HTML parse mode, only the allowed tags, `&<>"` escaped, text
<= 4096 characters; 429 carries `parameters.retry_after`; about 1 message a second per chat.

The target names the chat (a numeric id or @channel) and, optionally, the environment variable of
the dispatcher that holds the bot token (else `NEWSWIRE_TELEGRAM_BOT_TOKEN`): the token is a
credential, so it is never stored with the subscription, and never in a label or an error.
"""

from __future__ import annotations

import html
from typing import Any

from pydantic import Field

from services.delivery.channel import Address, Context, Spec
from services.delivery.chat import ChatChannel
from services.delivery.render import AlertView, clip, stamp


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


class TelegramSpec(Spec):
    chat: str = Field(
        pattern=r"^(-?[0-9]{1,20}|@[A-Za-z0-9_]{4,64})$", description="Chat id or @channel."
    )
    token_env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$",
        description="Environment variable (of the dispatcher) holding the bot token; unset: "
        "NEWSWIRE_TELEGRAM_BOT_TOKEN.",
    )


class Telegram(ChatChannel):
    spec: type[Spec] = TelegramSpec
    main: str = "chat"

    def describe(self, spec: Any, sub: str) -> str:
        return f"telegram:chat={spec.chat}"

    def address(self, spec: Any, sub: str, ctx: Context) -> Address:
        token = ctx.env.get(spec.token_env, "") if spec.token_env else ctx.config.telegram_token
        url = f"{ctx.config.telegram_api.rstrip('/')}/bot{token or ''}/sendMessage"
        missing = None
        if not token:
            where = spec.token_env or "NEWSWIRE_TELEGRAM_BOT_TOKEN"
            missing = f"no Telegram bot token: set {where} for the dispatcher"
        return Address(url, self.describe(spec, sub), (token,) if token else (), missing)

    def payload(self, spec: Any, v: AlertView) -> dict[str, Any]:
        return telegram_payload(v, spec.chat)


CHANNEL = Telegram("telegram", 1.0)
