"""Named subscriptions (stored in Redis, managed with `newswire subscriptions`) and the digest a
rate-limited subscriber receives on its channel instead of the alerts over its limit.

A subscription's targets are a list: each names a delivery channel (`kind`) and that channel's
fields, which the channel validates (`services/delivery/registry.py`); the contract does not know
the channels, so a new channel changes nothing here. Records are read back from Redis written by
other versions: fields this version does not know are ignored (issue 27: one such record once
stopped every alert), and records of the old shape (one field per channel) are migrated on load.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from schemas.base import utcnow
from schemas.tagged import Severity


class Target(BaseModel):
    """One place a subscription's matches go: a channel kind and the fields that channel needs."""

    model_config = ConfigDict(extra="ignore")

    kind: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$", description="The channel, e.g. slack.")
    fields: dict[str, JsonValue] = Field(
        default_factory=dict, description="The channel's fields, e.g. {'url': ...}."
    )
    sealed: str | None = Field(
        None,
        description="The fields encrypted at rest (Fernet; `fields` then empty): chat webhook URLs "
        "are credentials. Opened by the store that has the key.",
    )


# The shape before targets: one field per channel (a record in Redis may still have it).
_OLD_URLS = {
    "webhook_url": "webhook",
    "slack_url": "slack",
    "teams_url": "teams",
    "discord_url": "discord",
}
_OLD_FIELDS = (*_OLD_URLS, "telegram_chat", "telegram_token_env", "email", "digest_s")


def migrate_old_targets(data: dict[str, Any]) -> dict[str, Any]:
    """The old per-channel fields as targets, in the order they were delivered."""
    out = {k: v for k, v in data.items() if k not in _OLD_FIELDS}
    targets: list[Any] = list(data.get("targets") or [])
    for name, kind in _OLD_URLS.items():
        if data.get(name):
            targets.append({"kind": kind, "fields": {"url": data[name]}})
    if data.get("telegram_chat"):
        fields = {"chat": data["telegram_chat"]}
        if data.get("telegram_token_env"):
            fields["token_env"] = data["telegram_token_env"]
        targets.append({"kind": "telegram", "fields": fields})
    if data.get("email"):
        fields = {"to": data["email"]}
        if data.get("digest_s") is not None:
            fields["digest_s"] = data["digest_s"]
        targets.append({"kind": "email", "fields": fields})
    out["targets"] = targets
    return out


class Subscription(BaseModel):
    model_config = ConfigDict(extra="ignore")  # a field from another version is no error

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    min_severity: Severity = "low"
    rules: list[str] = Field(default_factory=list, description="Rule ids; empty = any rule.")
    countries: list[str] = Field(default_factory=list, description="ISO codes; empty = any.")
    rate_limit_per_min: int | None = Field(
        None, ge=1, description="Beyond this, alerts go to a digest."
    )
    atom: bool = Field(
        False, description="Listed with an Atom feed (/feeds/subscriptions/NAME.atom)."
    )
    targets: list[Target] = Field(
        default_factory=list,
        description="Where matches are delivered by `newswire run webhooks` (webhook, chats, "
        "e-mail): each validated by its channel.",
    )
    created_at: datetime = Field(default_factory=utcnow)

    @model_validator(mode="before")
    @classmethod
    def _old_shape(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(k in data for k in _OLD_FIELDS):
            return migrate_old_targets(data)
        return data


class Digest(BaseModel):
    """What a rate-limited subscriber gets instead of the alerts over its limit."""

    type: Literal["digest"] = "digest"
    subscription: str
    count: int
    alerts: list[dict[str, Any]]
    window_end: datetime = Field(default_factory=utcnow)
