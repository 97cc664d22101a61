"""Slack incoming webhooks: `text` (the notification fallback) + Block Kit `blocks` (header <= 150
plain-text characters, section mrkdwn <= 3000, button text <= 75, url <= 3000, <= 50 blocks);
`&`, `<`, `>` escaped in mrkdwn. 429 comes with a `Retry-After` header. At most 1 message a
second per webhook.
"""

from __future__ import annotations

from typing import Any

from services.delivery.chat import ChatChannel
from services.delivery.render import AlertView, clip, stamp


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


CHANNEL = ChatChannel("slack", 1.0, slack_payload)
