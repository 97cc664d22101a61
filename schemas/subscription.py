"""Named subscriptions (stored in Redis, managed with `newswire subscriptions`) and the digest a
rate-limited subscriber receives on its channel instead of the alerts over its limit."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.base import utcnow
from schemas.tagged import Severity

_URL = r"^https?://[^\s]+$"
_EMAIL = re.compile(r"^[^@\s<>,;:\"]+@[A-Za-z0-9.-]+$")


class Subscription(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    min_severity: Severity = "low"
    rules: list[str] = Field(default_factory=list, description="Rule ids; empty = any rule.")
    countries: list[str] = Field(default_factory=list, description="ISO codes; empty = any.")
    rate_limit_per_min: int | None = Field(
        None, ge=1, description="Beyond this, alerts go to a digest."
    )
    webhook_url: str | None = Field(None, description="Also POST matches here (signed).")
    atom: bool = Field(
        False, description="Listed with an Atom feed (/feeds/subscriptions/NAME.atom)."
    )
    slack_url: str | None = Field(
        None,
        pattern=_URL,
        description="Slack incoming-webhook URL: one Block Kit message per alert.",
    )
    teams_url: str | None = Field(
        None, pattern=_URL, description="Microsoft Teams webhook URL: one Adaptive Card per alert."
    )
    discord_url: str | None = Field(
        None, pattern=_URL, description="Discord webhook URL: one embed per alert."
    )
    telegram_chat: str | None = Field(
        None,
        pattern=r"^(-?[0-9]{1,20}|@[A-Za-z0-9_]{4,64})$",
        description="Telegram chat id or @channel: Bot API sendMessage, HTML parse mode.",
    )
    telegram_token_env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$",
        description="Environment variable (of the dispatcher) holding the bot token; unset: "
        "NEWSWIRE_TELEGRAM_BOT_TOKEN.",
    )
    email: list[str] = Field(
        default_factory=list,
        description="E-mail recipients: critical alerts at once, the rest in a digest.",
    )
    digest_s: int = Field(
        900,
        ge=0,
        description="E-mail digest period in seconds for non-critical alerts; 0: at once.",
    )
    created_at: datetime = Field(default_factory=utcnow)

    @field_validator("email")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        for addr in v:
            if not _EMAIL.match(addr):
                raise ValueError(f"not an e-mail address: {addr!r}")
        return v


class Digest(BaseModel):
    """What a rate-limited subscriber gets instead of the alerts over its limit."""

    type: Literal["digest"] = "digest"
    subscription: str
    count: int
    alerts: list[dict[str, Any]]
    window_end: datetime = Field(default_factory=utcnow)
