from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas import Alert, Digest, Subscription
from services.delivery.history import stream_start
from services.delivery.live import parse_message
from services.delivery.subscriptions import matches
from tests.factories import make_alert


def _alert(
    severity: str = "high", rule: str = "missile-strike", countries: list[str] | None = None
) -> Alert:
    return make_alert(id="a" * 16, severity=severity, rule_id=rule, countries=countries or ["UA"])


@pytest.mark.parametrize(
    ("sub", "alert", "expected"),
    [
        (Subscription(name="s"), _alert(), True),
        (Subscription(name="s", min_severity="critical"), _alert("high"), False),
        (Subscription(name="s", min_severity="medium"), _alert("critical"), True),
        (Subscription(name="s", rules=["nuclear-threat"]), _alert(), False),
        (Subscription(name="s", countries=["RU"]), _alert(countries=["UA", "RU"]), True),
        (Subscription(name="s", countries=["KP"]), _alert(countries=["UA"]), False),
    ],
)
def test_matches(sub: Subscription, alert: Alert, expected: bool) -> None:
    assert matches(sub, alert) is expected


def test_subscription_names_are_channel_safe() -> None:
    with pytest.raises(ValidationError):
        Subscription(name="bad name*")


def test_stream_start_accepts_ids_and_times() -> None:
    assert stream_start("1732000000000-3") == "(1732000000000-3"
    assert stream_start("2024-11-19T00:00:00Z") == "1731974400000"
    assert stream_start("1731974400") == "1731974400000"


def test_channel_messages_parse_as_alert_or_digest() -> None:
    a = _alert()
    assert parse_message(a.model_dump_json().encode()) == a
    d = Digest(subscription="s", count=2, alerts=[{"id": "1"}, {"id": "2"}])
    parsed = parse_message(d.model_dump_json().encode())
    assert isinstance(parsed, Digest)
    assert parsed.count == 2


SLACK = "https://hooks.slack.com/services/T0/B0/slack-secret"


def _desk() -> Subscription:
    from schemas import Target

    return Subscription(
        name="desk",
        targets=[
            Target(kind="slack", fields={"url": SLACK}),
            Target(kind="telegram", fields={"chat": "@desk_alerts", "token_env": "DESK_BOT"}),
        ],
    )


def test_targets_are_sealed_at_rest_and_opened_with_the_key() -> None:
    """Issue 27: chat webhook URLs (credentials) were stored in subscription records in plain
    text. Sealed, the stored record has none of them; the key opens them as they were."""
    from services.delivery.registry import describe, resolve
    from services.delivery.subscriptions import Sealer

    sub = _desk()
    stored = Sealer("k1").seal(sub).model_dump_json()
    assert "slack-secret" not in stored and "hooks.slack.com" not in stored
    assert "desk_alerts" not in stored
    back = Sealer("k1").open(Subscription.model_validate_json(stored))
    assert back.targets == sub.targets
    # a store without the key (the dashboard's) or with another: the targets stay sealed, each
    # unusable with the reason, and nothing of them is shown
    for opened in (
        Subscription.model_validate_json(stored),
        Sealer("other").open(Subscription.model_validate_json(stored)),
    ):
        assert describe(opened) == "slack:(sealed) telegram:(sealed)"
        with pytest.raises(ValueError, match="sealed"):
            resolve(opened.targets[0])
    # rotation: a new key first, the old one still opens what it sealed
    assert Sealer("k2,k1").open(Subscription.model_validate_json(stored)).targets == sub.targets


def test_a_plain_record_written_before_the_key_still_loads() -> None:
    from services.delivery.subscriptions import Sealer

    plain = _desk().model_dump_json()  # as stored without a key (and by earlier versions)
    assert Sealer("k1").open(Subscription.model_validate_json(plain)).targets == _desk().targets


def test_no_secret_in_a_label_or_a_config_repr() -> None:
    from services.delivery.channel import label_of, mask_url
    from services.delivery.config import Config

    assert mask_url(SLACK).startswith("hooks.slack.com#") and "secret" not in mask_url(SLACK)
    assert mask_url("http://user:pw@[::1") == mask_url("http://user:pw@[::1")  # malformed: no raise
    masked = label_of("webhook", "http://user:pw@h.example/p/key-9?token=t-8")
    assert masked.startswith("webhook:h.example#")
    assert all(x not in masked for x in ("user", "pw", "key-9", "token", "t-8"))
    text = repr(Config(webhook_secret="ws-1", telegram_token="tg-2", subscription_key="sk-3"))
    assert "ws-1" not in text and "tg-2" not in text and "sk-3" not in text
