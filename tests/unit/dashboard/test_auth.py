"""The dashboard's login parts: the one credential check, signed expiring sessions, CSRF tokens
bound to a session, the Origin check, and the refusal to serve beyond loopback without a token."""

from __future__ import annotations

import pytest

from services.common.settings import Settings
from services.dashboard import auth
from services.dashboard.app import InsecureDashboard, make_app

KEY = auth.session_key(None, "s3cret")
assert KEY is not None


def test_authenticate_is_the_token_only() -> None:
    assert auth.authenticate("s3cret", "s3cret") == auth.TOKEN_USER
    assert auth.authenticate("s3cret", "s3cre") is None
    assert auth.authenticate("s3cret", "é") is None  # non-ASCII: False, not TypeError
    assert auth.authenticate("s3cret", None) is None
    assert auth.authenticate(None, "anything") is None  # no token configured: no login


def test_bearer_header() -> None:
    assert auth.bearer("Bearer abc") == "abc" and auth.bearer("bearer  abc ") == "abc"
    assert auth.bearer("Basic abc") is None and auth.bearer(None) is None
    assert auth.bearer("Bearer ") is None


def test_session_cookie_is_signed_and_expires() -> None:
    assert KEY is not None
    cookie = auth.issue_session(KEY, "token", "n1", now=1000.0, ttl_s=60)
    assert auth.open_session(KEY, cookie, now=1059.0) == ("token", "n1")
    assert auth.open_session(KEY, cookie, now=1060.0) is None  # expired
    _, nonce, user, mac = cookie.split(".")
    assert auth.open_session(KEY, f"9999999999.{nonce}.{user}.{mac}", 1000.0) is None  # extended
    other = auth.session_key(None, "another token")
    assert other is not None and auth.open_session(other, cookie, 1000.0) is None  # token rotated
    for junk in (None, "", "a.b.c", "x.y.z.w", cookie + "x"):
        assert auth.open_session(KEY, junk, 1000.0) is None
    configured = auth.session_key("session secret", "s3cret")
    assert configured is not None and configured != KEY
    assert auth.session_key(None, None) is None


def test_csrf_token_is_bound_to_its_session() -> None:
    assert KEY is not None
    token = auth.csrf_token(KEY, "n1")
    assert auth.csrf_ok(KEY, "n1", token)
    assert not auth.csrf_ok(KEY, "n2", token)
    assert not auth.csrf_ok(KEY, "n1", None) and not auth.csrf_ok(KEY, "n1", "é")


def test_same_origin() -> None:
    ours = {auth.origin_of("http://127.0.0.1:8081/"), auth.origin_of("https://desk.example/x")}
    assert ours == {"http://127.0.0.1:8081", "https://desk.example"}
    assert auth.same_origin("https://DESK.example", ours)
    assert not auth.same_origin("https://evil.example", ours)
    assert not auth.same_origin("null", ours)
    assert auth.same_origin(None, ours)  # no browser sent it


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.3.2.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("", False),
        ("::", False),
        ("10.0.0.5", False),
        ("dashboard.example", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert auth.is_loopback(host) is loopback


def test_no_token_refuses_a_public_address_and_stays_open_on_loopback() -> None:
    with pytest.raises(InsecureDashboard, match="NEWSWIRE_API_TOKEN"):
        make_app(Settings(http_host="0.0.0.0"))
    make_app(Settings(http_host="127.0.0.1"))
    make_app(Settings(http_host="0.0.0.0", api_token="s3cret"))  # type: ignore[arg-type]


def test_failed_logins_wait_past_the_limit_and_memory_stays_bounded() -> None:
    attempts = auth.LoginAttempts(limit=3, window_s=60, keep=2)
    for t in (0.0, 1.0, 2.0):
        assert attempts.wait_s("a", t) == 0
        attempts.failed("a", t)
    assert attempts.wait_s("a", 3.0) == 57.0  # the oldest of the last 3 leaves the window at 60
    assert attempts.wait_s("b", 3.0) == 0  # another address is not held up
    assert attempts.wait_s("a", 60.5) == 0
    attempts.failed("b", 4.0)
    attempts.failed("c", 5.0)
    assert list(attempts.failures) == ["b", "c"]  # "a" forgotten first


def test_run_dashboard_refuses_at_once_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """`newswire run dashboard` on 0.0.0.0 without a token: exit 1 with the reason, before it
    waits for Kafka (port 1: nothing there, so a wait would time the test out)."""
    from click.testing import CliRunner

    from services.cli import run as run_cli

    monkeypatch.setattr(run_cli, "_settings", lambda: Settings(http_host="0.0.0.0", kafka_port=1))
    result = CliRunner().invoke(run_cli.run, ["dashboard"])
    assert result.exit_code == 1 and "NEWSWIRE_API_TOKEN" in result.output
