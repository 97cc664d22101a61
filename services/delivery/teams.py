"""Microsoft Teams webhooks (connector or Workflows): a `message` whose attachment is an Adaptive
Card 1.4 (`application/vnd.microsoft.card.adaptive`); body under 28 KB; 4 messages a second.
"""

from __future__ import annotations

from typing import Any

from services.delivery.chat import ChatChannel
from services.delivery.render import AlertView, clip, markdown_literal, stamp

TEAMS_COLOUR = {"critical": "Attention", "high": "Attention", "medium": "Warning", "low": "Default"}


def teams_payload(v: AlertView) -> dict[str, Any]:
    facts = [{"title": "Where", "value": markdown_literal(v.where)}] if v.where else []
    facts += [
        {"title": "When", "value": stamp(v.when)},
        {"title": "Rule", "value": ", ".join(v.rules)},
        {"title": "Score", "value": f"{v.score:.1f}"},
    ]
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": f"{v.emoji} {v.label} · {markdown_literal(clip(v.what, 200))}",
            "weight": "Bolder",
            "size": "Medium",
            "color": TEAMS_COLOUR.get(v.severity, "Default"),
            "wrap": True,
        },
        {
            "type": "TextBlock",
            "text": markdown_literal(clip(v.headline, 400)),
            "weight": "Bolder",
            "wrap": True,
        },
        {"type": "FactSet", "facts": facts},
    ]
    if v.evidence:
        body.append(
            {
                "type": "TextBlock",
                "text": f"“{markdown_literal(clip(v.evidence[0], 1000))}”",
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


CHANNEL = ChatChannel("teams", 0.25, teams_payload)
