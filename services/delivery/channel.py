"""The delivery channel interface: every way of reaching a subscriber implements `Channel`.

A channel validates a target's fields, names where a target goes (without its secrets), renders
a story update (or a digest) into messages, sends one message once, and says of an error whether
it is permanent or worth another try. Retries, pacing, deduplication, digests and dead letters
are the dispatcher's, the same for every channel (`dispatch.py`); the channels are listed in
`registry.py`. A new channel is one module with a `CHANNEL` and one entry there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from schemas import Alert, Target
from services.common.outbound import Outbound
from services.delivery.config import Config

URL = r"^https?://[^\s]+$"


def mask_url(url: str) -> str:
    """A URL as every log line, outcome, dead letter and listing shows it: its host and a short
    hash telling two apart, never its path, query or user info (where a Slack or Discord webhook,
    a bot token or a receiver's key live). The one masking function of delivery."""
    try:
        host = urlsplit(url).hostname or "?"
    except ValueError:
        host = "?"
    return f"{host}#{hashlib.sha256(url.encode()).hexdigest()[:8]}"


def label_of(kind: str, url: str) -> str:
    """How a target with a URL is named: its kind and its masked URL."""
    return f"{kind}:{mask_url(url)}"


class Spec(BaseModel):
    """A target's fields as its channel reads them. Fields another version added are ignored when
    a stored record is read; `validate(strict=True)` (adding a subscription) rejects them."""

    model_config = ConfigDict(extra="ignore", frozen=True)


S = TypeVar("S", bound=Spec)


@dataclass(frozen=True)
class Address:
    """Where one target's messages go. `key`: the destination (a URL; the same key named by two
    subscriptions gets each alert once); `label`: how outcomes, logs and dead letters name it,
    never a secret; `secrets`: scrubbed from every error text; `error`: why nothing can be sent
    (a missing token): dead-lettered at once, never tried; `scope`: set when each subscription's
    copy differs (a webhook signed with the subscription's key): then it is not deduplicated
    across subscriptions."""

    key: str
    label: str
    secrets: tuple[str, ...] = ()
    error: str | None = None
    scope: str = ""


@dataclass(frozen=True)
class Message:
    """One rendered message and the alerts it carries; `dead` is what a dead letter keeps."""

    payload: Any
    alerts: tuple[Alert, ...]
    dead: object


@dataclass(frozen=True)
class Failure:
    """One failed attempt: `permanent` ones are not retried; `retry_after` is the wait the
    receiver asked for (used instead of the backoff's, up to the configured maximum)."""

    error: str
    permanent: bool = False
    status: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class Context:
    """What a channel sends with: the configuration, the guarded outbound HTTP client (every
    request delivery makes goes through it), the environment (bot tokens named by a target)."""

    config: Config
    http: Outbound
    env: Mapping[str, str]


class Channel(Protocol[S]):
    kind: str
    main: str  # the field `--target KIND:VALUE` sets
    attempts: int  # tries per message
    pace_s: float  # at least this long between two messages to one target

    def validate(self, target: Target, *, strict: bool = False) -> S:
        """The target's fields, or ValueError (pydantic's ValidationError is one)."""
        ...

    def describe(self, spec: S, sub: str) -> str:
        """The target for people (`subscriptions list`): no secret in it."""
        ...

    def address(self, spec: S, sub: str, ctx: Context) -> Address: ...

    def urls(self, spec: S) -> Sequence[str]:
        """The URLs the target itself names that messages are sent to: `subscriptions add`
        refuses one at an internal address (the outbound guard refuses it at every send too)."""
        ...

    def digest_s(self, spec: S) -> int | None:
        """The digest period of a channel that batches (None: every message at once)."""
        ...

    def at_once(self, spec: S, alert: Alert) -> bool:
        """Whether an alert skips the digest (a critical e-mail)."""
        ...

    def render(
        self, spec: S, alerts: Sequence[Alert], sub: str, ctx: Context, *, digest: bool = False
    ) -> list[Message]:
        """A story update (the lead alert first, then the other rules' alerts of the same
        update), or with `digest` the alerts held for a digest, as messages."""
        ...

    async def send(self, spec: S, address: Address, message: Message, ctx: Context) -> int | None:
        """One attempt: the receiver's status when it has one (HTTP); raises on failure."""
        ...

    def classify(self, exc: Exception) -> Failure | None:
        """A failed attempt's error, permanent or transient; None: not a delivery failure (a bug),
        raised."""
        ...


class BaseChannel:
    """The parts most channels share: fields validated by their `Spec` model, no digest."""

    kind: str
    spec: type[Spec]
    main: str = "url"
    attempts: int = 5
    pace_s: float = 0.0

    def validate(self, target: Target, *, strict: bool = False) -> Any:
        return validate_fields(self.spec, target, strict=strict)

    def urls(self, spec: Any) -> Sequence[str]:  # a `url` field: where the messages go
        url = getattr(spec, "url", None)
        return (url,) if isinstance(url, str) else ()

    def digest_s(self, spec: Any) -> int | None:
        return None

    def at_once(self, spec: Any, alert: Alert) -> bool:
        return True


def validate_fields(model: type[S], target: Target, *, strict: bool = False) -> S:
    unknown = sorted(set(target.fields) - set(model.model_fields))
    if strict and unknown:
        raise ValueError(
            f"unknown field(s) {', '.join(unknown)}; it takes {', '.join(model.model_fields)}"
        )
    return model.model_validate(target.fields)


def dump(alert: Alert) -> dict[str, Any]:
    return alert.model_dump(mode="json")
