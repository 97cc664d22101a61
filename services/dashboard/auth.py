"""Pure parts of the dashboard's login: who a presented secret is, signed session cookies, CSRF
tokens, same-origin and loopback checks. No I/O; the keys and the clock come from the caller."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from collections import OrderedDict
from urllib.parse import urlsplit

SESSION_COOKIE = "newswire_session"
TOKEN_USER = "token"  # the principal of the configured API token, until the desk issue's users


def authenticate(api_token: str | None, presented: str | None) -> str | None:
    """The user a presented secret belongs to, or None. The one place a login is checked: the
    desk issue's users replace this function (a name and password -> the user), nothing else."""
    if not api_token or not presented:
        return None
    if hmac.compare_digest(presented.encode("utf-8", "replace"), api_token.encode()):
        return TOKEN_USER
    return None


def bearer(authorization: str | None) -> str | None:
    """The credential of an `Authorization: Bearer ...` header (API clients, feed readers)."""
    scheme, _, value = (authorization or "").partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


def session_key(secret: str | None, api_token: str | None) -> bytes | None:
    """The cookie-signing key: the configured secret, else one derived from the API token (so a
    new token ends every session); None when neither is set (no login at all)."""
    if secret:
        return hashlib.sha256(secret.encode()).digest()
    if api_token:
        return hmac.new(api_token.encode(), b"newswire dashboard session v1", "sha256").digest()
    return None


def _sign(key: bytes, payload: str) -> str:
    mac = hmac.new(key, payload.encode(), "sha256").digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def issue_session(key: bytes, user: str, nonce: str, now: float, ttl_s: int) -> str:
    """`<expiry>.<nonce>.<user, base64url>.<HMAC>`: tamper-proof and expiring without a store."""
    name = base64.urlsafe_b64encode(user.encode()).decode().rstrip("=")
    payload = f"{int(now) + ttl_s}.{nonce}.{name}"
    return f"{payload}.{_sign(key, payload)}"


def open_session(key: bytes, cookie: str | None, now: float) -> tuple[str, str] | None:
    """(user, nonce) of a valid, unexpired session cookie; None for anything else."""
    parts = (cookie or "").split(".")
    if len(parts) != 4:
        return None
    expiry, nonce, name, mac = parts
    if not hmac.compare_digest(mac.encode(), _sign(key, f"{expiry}.{nonce}.{name}").encode()):
        return None
    if not expiry.isdigit() or int(expiry) <= now:
        return None
    try:
        user = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
    except ValueError:
        return None
    return user, nonce


def csrf_token(key: bytes, nonce: str) -> str:
    """The CSRF token of a session: bound to it, so a token seen elsewhere is worth nothing."""
    return _sign(key, f"csrf.{nonce}")


def csrf_ok(key: bytes, nonce: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(
        presented.encode("utf-8", "replace"), csrf_token(key, nonce).encode()
    )


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(origin: str | None, allowed: set[str]) -> bool:
    """A state-changing request's Origin must be one of ours; a request without one comes from
    no browser (browsers send Origin on every cross-site POST), so CSRF cannot apply to it."""
    return origin is None or origin.lower() in allowed


def is_loopback(host: str) -> bool:
    """Whether a bind address reaches only this machine ("" and 0.0.0.0 are every interface)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class LoginAttempts:
    """Failed logins per client address in a sliding window: past `limit`, the address waits
    (guessing the token costs a window per `limit` tries). At most `keep` addresses are held,
    the oldest forgotten first, so a flood of addresses cannot grow memory."""

    def __init__(self, limit: int = 10, window_s: float = 60.0, keep: int = 10_000) -> None:
        self.limit, self.window_s, self.keep = limit, window_s, keep
        self.failures: OrderedDict[str, list[float]] = OrderedDict()

    def wait_s(self, address: str, now: float) -> float:
        """Seconds until this address may try again (0: now)."""
        recent = [t for t in self.failures.get(address, []) if t > now - self.window_s]
        if len(recent) < self.limit:
            return 0.0
        return recent[-self.limit] + self.window_s - now

    def failed(self, address: str, now: float) -> None:
        times = [t for t in self.failures.pop(address, []) if t > now - self.window_s]
        self.failures[address] = [*times[-self.limit :], now]
        while len(self.failures) > self.keep:
            self.failures.popitem(last=False)
