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
