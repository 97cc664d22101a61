"""The channel interface: targets as data, validated by their channel; stored records of other
versions (the old shape, unknown fields) still load; a new channel is one registration."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest
import redis.asyncio as aioredis

from schemas import Alert, Subscription, Target
from services.delivery import dispatch
from services.delivery.channel import Address, BaseChannel, Context, Failure, Message, Spec
from services.delivery.config import Config
from services.delivery.registry import CHANNELS, check, describe, resolve, target
from tests.factories import make_alert

OLD = (  # a record as the version before targets stored it
    '{"name":"desk","min_severity":"high","rules":[],"countries":["UA"],'
    '"rate_limit_per_min":null,"webhook_url":"http://127.0.0.1:9/hook","atom":true,'
    '"slack_url":"https://hooks.slack.com/services/T/B/x","teams_url":null,'
    '"discord_url":"https://discord.com/api/webhooks/1/t","telegram_chat":"@desk_alerts",'
    '"telegram_token_env":"DESK_BOT","email":["ops@example.org"],"digest_s":600,'
    '"created_at":"2025-01-01T00:00:00Z"}'
)


def test_a_record_of_the_old_shape_loads_as_targets() -> None:
    sub = Subscription.model_validate_json(OLD)
    assert [(t.kind, t.fields) for t in sub.targets] == [
        ("webhook", {"url": "http://127.0.0.1:9/hook"}),
        ("slack", {"url": "https://hooks.slack.com/services/T/B/x"}),
        ("discord", {"url": "https://discord.com/api/webhooks/1/t"}),
        ("telegram", {"chat": "@desk_alerts", "token_env": "DESK_BOT"}),
        ("email", {"to": ["ops@example.org"], "digest_s": 600}),
    ]
    assert sub.atom and sub.min_severity == "high" and check(sub) == []
    assert "teams" not in describe(sub) and "email:ops@example.org (digest 10m" in describe(sub)
    again = Subscription.model_validate_json(sub.model_dump_json())  # stored anew: the new shape
    assert again == sub and "slack_url" not in sub.model_dump_json()


def test_fields_of_another_version_do_not_stop_the_record() -> None:
    """Issue 27: one stored subscription with a field this version did not know made every
    alert delivery raise."""
    raw = (
        '{"name":"desk","signing_key_id":"k1","targets":[{"kind":"slack","fields":'
        '{"url":"https://hooks.slack.com/services/T/B/x","thread":"t1"},"encrypted":true}]}'
    )
    sub = Subscription.model_validate_json(raw)
    channel, spec = resolve(sub.targets[0])  # delivery reads it leniently
    assert channel.kind == "slack" and spec.url == "https://hooks.slack.com/services/T/B/x"
    assert check(sub) and "unknown field(s) thread" in check(sub)[0]  # adding one is strict


@pytest.mark.parametrize(
    ("targets", "error"),
    [
        ([Target(kind="pager", fields={"url": "https://x"})], "no channel 'pager'"),
        ([Target(kind="slack", fields={"url": "ftp://x"})], "url"),
        ([Target(kind="telegram", fields={"chat": "not a chat"})], "chat"),
        ([Target(kind="email", fields={"to": ["nobody"]})], "not an e-mail address"),
        ([Target(kind="email", fields={"to": "a@b.c"})] * 2, "one digest per subscription"),
    ],
)
def test_each_channel_validates_its_targets(targets: list[Target], error: str) -> None:
    errors = check(Subscription(name="s", targets=targets))
    assert errors and error in " ".join(errors), errors


def test_targets_from_the_command_line() -> None:
    assert target("slack:https://hooks.slack.com/services/T/B/x") == Target(
        kind="slack", fields={"url": "https://hooks.slack.com/services/T/B/x"}
    )
    assert target("email:a@b.c,d@e.f").fields == {"to": "a@b.c,d@e.f"}
    assert target("kind=telegram,chat=@desk_alerts,token_env=BOT") == Target(
        kind="telegram", fields={"chat": "@desk_alerts", "token_env": "BOT"}
    )
    for bad in ("pager:x", "chat=@x", "nonsense"):
        with pytest.raises(ValueError):
            target(bad)


class PagerSpec(Spec):
    number: str


class Pager(BaseChannel):
    """A channel this tree does not have, registered with one line."""

    kind: str = "pager"
    spec: type[Spec] = PagerSpec
    main: str = "number"
    sent: ClassVar[list[tuple[str, str]]] = []

    def describe(self, spec: Any, sub: str) -> str:
        return f"pager:{spec.number}"

    def address(self, spec: Any, sub: str, ctx: Context) -> Address:
        return Address(spec.number, self.describe(spec, sub))

    def render(
        self, spec: Any, alerts: Sequence[Alert], sub: str, ctx: Context, *, digest: bool = False
    ) -> list[Message]:
        return [Message(alerts[0].title, (alerts[0],), None)]

    async def send(self, spec: Any, address: Address, message: Message, ctx: Context) -> int | None:
        self.sent.append((address.key, message.payload))

    def classify(self, exc: Exception) -> Failure | None:
        return None


async def test_a_new_channel_is_one_registration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHANNELS, "pager", Pager())
    sub = Subscription(name="s", targets=[target("pager:555-0100")])
    assert check(sub) == []
    client = aioredis.Redis(host="127.0.0.1", port=1)  # never used: nothing fails
    d = dispatch.Deliverer(client, dispatch.RedisKeys("t"), None, Config(), env={})  # type: ignore[arg-type]
    alert = make_alert(title="depot hit")
    out = await d.alert([sub, sub.model_copy(update={"name": "s2"})], alert)
    assert [(o.kind, o.target, o.delivered) for o in out] == [("pager", "pager:555-0100", True)]
    assert Pager.sent == [("555-0100", "depot hit")]  # two subscriptions, one page
    await client.aclose()


def test_the_dispatcher_names_no_channel() -> None:
    source = inspect.getsource(dispatch)
    for kind in CHANNELS:
        assert f'"{kind}"' not in source, kind


async def test_a_lane_runs_in_order_refuses_beyond_its_depth_and_holds_up_no_other() -> None:
    import asyncio

    from services.delivery.dispatch import Lanes, Outcome

    gate = asyncio.Event()
    ran: list[str] = []

    def job(name: str, wait: bool = False) -> Any:
        async def run() -> Outcome:
            if wait:
                await gate.wait()
            ran.append(name)
            return Outcome("k", name, True)

        return run

    def refuse(name: str) -> Any:
        async def run() -> Outcome:
            return Outcome("k", name, False, errors=["full"])

        return run

    lanes = Lanes(depth=2)
    slow = [lanes.submit(("slow",), job(f"s{i}", wait=True), refuse(f"s{i}")) for i in range(3)]
    fast = await lanes.submit(("fast",), job("f"), refuse("f"))
    assert fast.delivered and ran == ["f"]  # the blocked lane held up nothing
    third = await slow[2]
    assert not third.delivered and third.errors == ["full"]  # refused at once, not queued
    assert lanes.backlog(("slow",)) == 2
    gate.set()
    assert [o.target for o in await asyncio.gather(*slow[:2])] == ["s0", "s1"]
    assert ran == ["f", "s0", "s1"] and lanes.backlog(("slow",)) == 0
