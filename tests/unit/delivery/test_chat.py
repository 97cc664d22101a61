"""Chat payloads as each platform documents them: shape, limits, escaping; 429 retry_after."""

from __future__ import annotations

from typing import Any

import pytest

from schemas import Match, Subscription
from services.delivery import slack, telegram
from services.delivery.channel import Context, label_of
from services.delivery.config import Config
from services.delivery.discord import discord_payload
from services.delivery.registry import resolve
from services.delivery.render import clip, sample_alert, view
from services.delivery.retry import redact, retry_after
from services.delivery.slack import slack_payload
from services.delivery.teams import teams_payload
from services.delivery.telegram import telegram_payload
from tests.factories import make_alert
from tests.unit.delivery import platforms

DASH = "http://dash.example:8081"
HOSTILE = 'Strike <script>alert("x")</script> & @everyone <@123> *bold* <https://evil|click>'


def _views() -> list[Any]:
    long = "word " * 3000
    return [
        view(sample_alert(), DASH),
        view(make_alert(), DASH),  # no url, no evidence, no places
        view(
            make_alert(
                title=HOSTILE,
                rule_description=HOSTILE,
                url="https://example.org/a?x=1&y=<2>",
                places=[HOSTILE],
                matches=[Match(term="strike", sentence=HOSTILE + " " + long, start=0, end=6)],
                severity="critical",
            ),
            DASH,
        ),
        view(make_alert(title=long, rule_description=long, places=[long] * 5), DASH),
    ]


@pytest.mark.parametrize("v", _views())
def test_every_payload_fits_its_platform(v: Any) -> None:
    s = slack_payload(v)
    assert platforms.slack(s) == []
    assert platforms.slack_unescaped(s) == []
    assert platforms.teams(teams_payload(v)) == []
    assert platforms.telegram(telegram_payload(v, "-1001234567890")) == []
    assert platforms.discord(discord_payload(v)) == []


def test_a_message_says_severity_what_where_when_evidence_and_links() -> None:
    a = sample_alert()
    v = view(a, DASH)
    tg = platforms.telegram_visible(telegram_payload(v, "@desk")["text"])
    for needle in (
        "HIGH (was MEDIUM)",
        "Missile or drone strike",
        "Kharkiv",
        "UTC",
        "at least three",
    ):
        assert needle in tg
    assert "<test & sample>" in tg  # the title, escaped in the HTML and intact as text
    assert telegram_payload(v, "-100123")["chat_id"] == -100123
    slack = str(slack_payload(v))
    assert a.url in slack and f"{DASH}/#alert={a.id}" in slack
    disc = discord_payload(v)
    assert disc["embeds"][0]["url"] == a.url and disc["embeds"][0]["color"] == 0xE65100
    card = teams_payload(v)["attachments"][0]["content"]
    assert [x["title"] for x in card["actions"]] == ["Article", "Dashboard"]


def test_discord_text_cannot_ping_or_format() -> None:
    p = discord_payload(view(make_alert(title=HOSTILE, rule_description="*x* @here"), DASH))
    assert p["allowed_mentions"] == {"parse": []}
    assert "\\*x\\*" in p["embeds"][0]["description"]


def test_teams_text_cannot_become_a_link() -> None:
    """Issue 27: Markdown in a title became a link in Teams cards."""
    title = "Strike [read more](https://evil.example/x) **now**"
    card = teams_payload(view(make_alert(title=title), DASH))["attachments"][0]["content"]
    texts = [b["text"] for b in card["body"] if b.get("type") == "TextBlock"]
    assert any("\\[read more\\]\\(https://evil.example/x\\)" in t for t in texts)
    assert not any("[read more](" in t for t in texts)
    assert all("**now**" not in t for t in texts)


def test_terminal_text_cannot_drive_the_terminal() -> None:
    """Issue 27: ANSI escapes in article text reached `subscribe` and `tail`."""
    from services.cli.subscribe import format_story_update
    from services.delivery.render import terminal_safe
    from services.ops.tail import format_record

    hostile = "Strike\x1b[2J\x1b]0;owned\x07 \u202egnp.exe\x9b31m"
    assert "\x1b" not in terminal_safe(hostile) and "\u202e" not in terminal_safe(hostile)
    assert "\x9b" not in terminal_safe(hostile)
    assert terminal_safe("tab\tand\nnewline é 中") == "tab\tand\nnewline é 中"
    line = format_story_update([make_alert(title=hostile)], colour=True)
    assert line.count("\x1b") == 2  # our own colour code and its reset, nothing from the title
    assert "\\x1b[2J" in line
    rec = format_record(0, 1, 0, hostile.encode(), b'{"t": "x"}' + hostile.encode())
    assert "\x1b" not in rec and "\u202e" not in rec


def _addresses(sub: Subscription, env: dict[str, str]) -> dict[str, Any]:
    ctx = Context(Config(), None, env)  # type: ignore[arg-type]  # no HTTP: nothing is sent
    out = {}
    for t in sub.targets:
        channel, spec = resolve(t)
        out[t.kind] = channel.address(spec, sub.name, ctx)
    return out


def test_targets_name_no_secret_and_need_a_token() -> None:
    sub = Subscription(  # the old shape: migrated into targets
        name="desk",
        slack_url="https://hooks.slack.com/services/T0/B0/SECRETPATH",
        telegram_chat="@desk_alerts",
        telegram_token_env="DESK_BOT",
    )
    got = _addresses(sub, {"DESK_BOT": "123:ABC"})
    assert "SECRETPATH" not in got["slack"].label and got["slack"].label.startswith(
        "slack:hooks.slack.com#"
    )
    assert got["slack"].secrets == ("https://hooks.slack.com/services/T0/B0/SECRETPATH",)
    assert got["telegram"].key == "https://api.telegram.org/bot123:ABC/sendMessage"
    assert "123:ABC" not in got["telegram"].label and got["telegram"].error is None
    missing = _addresses(sub, {})
    assert missing["telegram"].error and "DESK_BOT" in missing["telegram"].error
    assert slack.CHANNEL.pace_s == telegram.CHANNEL.pace_s == 1.0
    assert label_of("discord", "https://discord.com/api/webhooks/1/tok") != label_of(
        "discord", "https://discord.com/api/webhooks/1/other"
    )
    assert (
        redact("GET /bot123:ABC/sendMessage failed", ["123:ABC"])
        == "GET /bot***/sendMessage failed"
    )


def test_retry_after_in_every_platform_dialect() -> None:
    assert retry_after({}, b'{"ok":false,"error_code":429,"parameters":{"retry_after":7}}') == 7
    assert (
        retry_after(
            {}, b'{"message":"You are being rate limited.","retry_after":0.35,"global":false}'
        )
        == 0.35
    )
    assert retry_after({"Retry-After": "3"}, b"") == 3
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}, b"", now=1445412480) == 10
    assert retry_after({}, b"rate limited") is None


def test_clip_cuts_on_words_and_marks_it() -> None:
    assert clip("a b c", 10) == "a b c"
    out = clip("alpha beta gamma delta", 12)
    assert len(out) <= 12 and out.endswith("…") and out.startswith("alpha beta")


def test_one_story_update_is_one_message_naming_every_rule() -> None:
    from services.delivery.dispatch import story_updates

    base = sample_alert()
    second = base.model_copy(update={"id": "x2", "rule_id": "mass-casualties"})
    other_story = base.model_copy(update={"id": "x3", "story_id": "another", "article_id": "a2"})
    risen = base.model_copy(update={"id": "x4", "severity": "critical"})
    groups = story_updates([base, second, other_story, risen])
    assert [(lead.id, [a.id for a in rest]) for lead, rest in groups] == [
        (base.id, ["x2"]),
        ("x3", []),
        ("x4", []),  # a severity rise is an update of its own
    ]
    v = view(base, "http://127.0.0.1:8081", [base.rule_id, "mass-casualties", base.rule_id])
    assert v.rules == (base.rule_id, "mass-casualties")
    for render in (slack_payload, teams_payload, discord_payload):
        assert "mass-casualties" in str(render(v))
