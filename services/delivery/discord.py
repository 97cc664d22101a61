"""Discord webhooks: embeds (title <= 256, description <= 4096, <= 25 fields, name <= 256, value
<= 1024, footer <= 2048, <= 6000 characters in all), `allowed_mentions` empty so article text
can never ping anyone; 429 carries `retry_after`. 5 messages per 2 s per webhook.
"""

from __future__ import annotations

from typing import Any

from services.delivery.chat import ChatChannel
from services.delivery.render import AlertView, clip, markdown_literal, stamp


def discord_payload(v: AlertView) -> dict[str, Any]:
    description = f"**{markdown_literal(clip(v.what, 300))}**"
    if v.evidence:
        description += "\n> " + markdown_literal(clip(v.evidence[0], 1500))
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


CHANNEL = ChatChannel("discord", 0.5, discord_payload)
