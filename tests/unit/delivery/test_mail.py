"""E-mail alerts: multipart/alternative, the headers mail clients and list tools need, escaping."""

from __future__ import annotations

import email
from email import policy

import pytest

from schemas import Match, Target
from services.cli.subscribe import parse_period
from services.delivery.config import SmtpConfig
from services.delivery.mail import CHANNEL, build_message, subject
from services.delivery.render import sample_alert, view
from tests.factories import make_alert


def test_digest_is_multipart_alternative_with_headers() -> None:
    crit = make_alert(
        severity="critical",
        title="Blast <img src=x onerror=alert(1)> & fire",
        matches=[Match(term="blast", sentence='A blast "shook" <Odesa>.', start=2, end=7)],
    )
    msg = build_message(
        [sample_alert(), crit],
        sub="desk",
        to=["ops@example.org", "b@example.org"],
        sender="alerts@news.example",
        dashboard="http://d",
    )
    raw = msg.as_bytes()
    back = email.message_from_bytes(raw, policy=policy.default)
    assert back.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in back.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    for h in ("Message-ID", "Date", "List-Unsubscribe", "List-Id", "From", "To", "Subject"):
        assert back[h], h
    assert back["Message-ID"].endswith("@news.example>")
    assert back["List-Unsubscribe"] == "<mailto:alerts@news.example?subject=unsubscribe%20desk>"
    assert back["Subject"] == "newswire digest (desk): 2 alerts — 1 critical, 1 high"
    text = back.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = back.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert text.index("CRITICAL") < text.index("HIGH")  # most severe first
    assert "Kharkiv" in text and "https://example.org/news/kharkiv-depot" in text
    assert "<img" not in html and "&lt;img src=x" in html and "&lt;Odesa&gt;" in html
    assert "http://d/#alert=" in html


def test_single_alert_subject_and_immediacy() -> None:
    v = view(sample_alert(), "http://d")
    assert subject([v], "desk").startswith(
        "[HIGH (was MEDIUM)] Missile or drone strike on infrastructure — Kharkiv:"
    )
    spec = CHANNEL.validate(Target(kind="email", fields={"to": "a@b.c, d@e.f", "digest_s": 900}))
    assert spec.to == ["a@b.c", "d@e.f"]
    assert CHANNEL.digest_s(spec) == 900
    assert CHANNEL.at_once(spec, make_alert(severity="critical"))
    assert not CHANNEL.at_once(spec, make_alert(severity="high"))
    at_once = spec.model_copy(update={"digest_s": 0})
    assert CHANNEL.at_once(at_once, make_alert(severity="low"))


def test_smtp_password_is_never_in_a_repr() -> None:
    cfg = SmtpConfig(host="h", user="u", password="hunter2")
    assert "hunter2" not in repr(cfg) and "hunter2" not in str(cfg)


@pytest.mark.parametrize(
    ("text", "seconds"), [("15m", 900), ("1h", 3600), ("90s", 90), ("0", 0), ("5", 300)]
)
def test_digest_periods(text: str, seconds: int) -> None:
    assert parse_period(text) == seconds
