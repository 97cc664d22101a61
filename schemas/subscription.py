"""Named subscriptions (stored in Redis, managed with `newswire subscriptions`) and the digest a
rate-limited subscriber receives on its channel instead of the alerts over its limit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.base import utcnow
from schemas.tagged import Severity


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
    created_at: datetime = Field(default_factory=utcnow)


class Digest(BaseModel):
    """What a rate-limited subscriber gets instead of the alerts over its limit."""

    type: Literal["digest"] = "digest"
    subscription: str
    count: int
    alerts: list[dict[str, Any]]
    window_end: datetime = Field(default_factory=utcnow)
