"""What the chat channels share (Slack, Teams, Telegram, Discord: one module each): one JSON
message per story update, made from its `AlertView` (naming every rule the update raised), POSTed
to a URL that is itself a credential: a target is named by its `label` (platform, host and a short
hash), never by its URL, and the URL is scrubbed from every error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import Field

from schemas import Alert
from services.delivery.channel import (
    URL,
    Address,
    BaseChannel,
    Context,
    Failure,
    Message,
    Spec,
    dump,
    label_of,
)
from services.delivery.render import AlertView, view
from services.delivery.retry import classify_http, post

JSON = {"Content-Type": "application/json; charset=utf-8"}


class UrlSpec(Spec):
    url: str = Field(pattern=URL, description="The platform's incoming-webhook URL (a secret).")


class ChatChannel(BaseChannel):
    """A chat platform's incoming webhook: its kind, its pace and how it words a message."""

    spec: type[Spec] = UrlSpec

    def __init__(
        self, kind: str, pace_s: float, build: Callable[[AlertView], dict[str, Any]] | None = None
    ) -> None:
        self.kind = kind
        self.pace_s = pace_s
        self.build = build

    def describe(self, spec: Any, sub: str) -> str:
        return label_of(self.kind, spec.url)

    def address(self, spec: Any, sub: str, ctx: Context) -> Address:
        return Address(spec.url, label_of(self.kind, spec.url), (spec.url,))

    def payload(self, spec: Any, v: AlertView) -> dict[str, Any]:
        if self.build is None:
            raise NotImplementedError(f"{self.kind}: no payload")
        return self.build(v)

    def render(
        self, spec: Any, alerts: Sequence[Alert], sub: str, ctx: Context, *, digest: bool = False
    ) -> list[Message]:
        v = view(alerts[0], ctx.config.dashboard, [a.rule_id for a in alerts])
        body = json.dumps(self.payload(spec, v), ensure_ascii=False).encode()
        return [Message(body, (alerts[0],), dump(alerts[0]))]  # the dead letter: the lead

    async def send(self, spec: Any, address: Address, message: Message, ctx: Context) -> int | None:
        return await post(ctx.http, address.key, message.payload, JSON)

    def classify(self, exc: Exception) -> Failure | None:
        return classify_http(exc)
