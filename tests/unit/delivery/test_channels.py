"""The channel interface: targets as data, validated by their channel; stored records of other
versions (the old shape, unknown fields) still load; a new channel is one registration."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest
import redis.asyncio as aioredis

from schemas import Alert, Subscription, Target
from services.common.settings import Settings
from services.delivery import dispatch
from services.delivery.channel import Address, BaseChannel, Context, Failure, Message, Spec
from services.delivery.config import Config
from services.delivery.registry import CHANNELS, blocked, check, describe, resolve, target
from tests.factories import make_alert
from tests.unit.common.test_outbound import FakeDNS

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


NO_ENV = Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("url", "dns", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", [], "169.254.169.254 is link-local (cloud"),
        ("http://[::1]:8080/hook", [], "::1 is loopback"),
        ("https://100.64.1.2/hook", [], "is CGNAT"),
        ("https://hooks.internal.example/x", ["10.1.2.3"], "resolves to 10.1.2.3, private"),
        ("https://twice.example/x", ["93.184.216.34", "127.0.0.1"], "resolves to 127.0.0.1"),
    ],
)
async def test_subscriptions_add_refuses_a_target_at_an_internal_address(
    url: str, dns: list[str], reason: str
) -> None:
    for kind in ("webhook", "slack"):
        sub = Subscription(name="desk", targets=[Target(kind=kind, fields={"url": url})])
        errors, unresolved = await blocked(sub, NO_ENV, resolver=FakeDNS(dns))
        assert len(errors) == 1 and errors[0].startswith(f"{kind}: ") and reason in errors[0]
        assert "NEWSWIRE_OUTBOUND_ALLOW" in errors[0] and unresolved == []


async def test_the_allow_list_public_hosts_and_other_channels_pass() -> None:
    allowed = NO_ENV.model_copy(update={"outbound_allow": ["10.0.0.0/8", "::1/128"]})
    sub = Subscription(
        name="desk",
        targets=[
            target("webhook:http://[::1]:8080/hook"),
            target("teams:https://hooks.internal.example/x"),
            target("telegram:@desk_alerts"),  # no URL of its own: the configured API
            target("email:ops@example.org"),
        ],
    )
    assert await blocked(sub, allowed, resolver=FakeDNS(["10.9.8.7"])) == ([], [])
    public = Subscription(name="p", targets=[target("slack:https://hooks.slack.com/services/x")])
    assert await blocked(public, NO_ENV, resolver=FakeDNS(["34.1.2.3"])) == ([], [])


async def test_a_host_that_does_not_resolve_now_is_a_warning() -> None:
    class NoDNS(FakeDNS):
        async def resolve(self, host: str, port: int = 0, family: Any = 0) -> Any:
            raise OSError("Name or service not known")

    sub = Subscription(name="p", targets=[target("slack:https://not-yet.example/x")])
    errors, unresolved = await blocked(sub, NO_ENV, resolver=NoDNS())
    assert errors == [] and unresolved == ["slack: not-yet.example does not resolve now"]


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
