"""Named subscriptions, rate limits with digests, and stream catch-up on a real redis-server."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis
from click.testing import CliRunner

from schemas import Alert, Digest, Subscription
from services.cli import main
from services.common.settings import Settings
from services.common.topics import RedisKeys
from services.delivery.follow import follow
from services.delivery.sink import RedisDelivery
from services.delivery.subscriptions import FanOut, SubscriptionStore
from tests.conftest import settings_env
from tests.factories import make_alert

pytestmark = pytest.mark.integration


def _alert(n: int, severity: str = "high") -> Alert:
    return make_alert(
        id=f"{uuid.uuid4().hex[:12]}{n:04d}",
        severity=severity,
        article_id=f"art{n}",
        story_id=f"art{n}",
        title=f"title {n}",
    )


def _prefix(stack: Settings) -> Settings:
    return stack.model_copy(
        update={"redis_prefix": f"{stack.redis_prefix}-s{uuid.uuid4().hex[:6]}"}
    )


async def test_rate_limited_subscription_folds_excess_into_one_digest(stack: Settings) -> None:
    s = _prefix(stack)
    keys = RedisKeys(s.redis_prefix)
    client = aioredis.Redis.from_url(s.redis)
    await SubscriptionStore(client, keys).add(
        Subscription(name="ops", min_severity="high", rate_limit_per_min=3)
    )
    await SubscriptionStore(client, keys).add(Subscription(name="crit", min_severity="critical"))
    listener = client.pubsub(ignore_subscribe_messages=True)
    await listener.subscribe(keys.subscription("ops"), keys.subscription("crit"))
    fanout = FanOut(client, keys, window_s=3600)

    live = [await fanout.publish(_alert(i)) for i in range(10)]
    assert [names for names in live if names] == [["ops"]] * 3
    digests = await fanout.flush_digests()
    assert [(d.subscription, d.count) for d in digests] == [("ops", 7)]
    assert await fanout.flush_digests() == []  # drained

    got: dict[str, list[bytes]] = {}
    for _ in range(40):
        msg = await listener.get_message(timeout=0.2)
        if msg:
            got.setdefault(msg["channel"].decode(), []).append(msg["data"])
        elif sum(map(len, got.values())) >= 4:
            break
    ops = got[keys.subscription("ops")]
    assert len(ops) == 4
    assert Digest.model_validate_json(ops[-1]).count == 7
    assert keys.subscription("crit") not in got
    await listener.aclose()
    await client.aclose()


async def test_follow_catches_up_then_goes_live_without_repeats(stack: Settings) -> None:
    s = _prefix(stack)
    keys = RedisKeys(s.redis_prefix)
    client = aioredis.Redis.from_url(s.redis)
    delivery = RedisDelivery(client, keys, ttl_s=60, maxlen=1000)
    first = await delivery.deliver(_alert(0))
    assert first is not None
    for i in range(1, 4):
        await delivery.deliver(_alert(i))

    received: list[Alert] = []

    async def consume() -> None:
        async for item in follow(s, channel=keys.all_alerts, since=first):
            assert isinstance(item, Alert)
            received.append(item)
            if len(received) == 4:
                return

    task = asyncio.create_task(consume())
    for _ in range(50):  # history arrives first
        if len(received) >= 3:
            break
        await asyncio.sleep(0.1)
    await delivery.deliver(_alert(4))
    await asyncio.wait_for(task, 10)
    # history after `first` (exclusive), then the live one; the live one is not repeated
    assert [a.article_id for a in received] == ["art1", "art2", "art3", "art4"]
    await client.aclose()


def test_subscriptions_cli_round_trip(stack: Settings) -> None:
    s = _prefix(stack)
    env = settings_env(s)
    runner = CliRunner()
    from services.common import settings as settings_mod

    settings_mod.get_settings.cache_clear()
    try:
        add = runner.invoke(
            main,
            [
                "subscriptions",
                "add",
                "desk",
                "--severity",
                "high",
                "--country",
                "ua",
                "--rate-limit",
                "5",
            ],
            env=env,
        )
        assert add.exit_code == 0, add.output
        assert RedisKeys(s.redis_prefix).subscription("desk") in add.output
        listed = runner.invoke(main, ["subscriptions", "list"], env=env)
        assert "desk: severity>=high rules=* countries=UA rate=5/window" in listed.output
        bad = runner.invoke(main, ["subscriptions", "add", "no spaces"], env=env)
        assert bad.exit_code != 0
        assert "name" in bad.output
        assert runner.invoke(main, ["subscriptions", "remove", "desk"], env=env).exit_code == 0
        gone = runner.invoke(main, ["subscriptions", "remove", "desk"], env=env)
        assert gone.exit_code != 0
        assert "no subscription named 'desk'" in gone.output
    finally:
        settings_mod.get_settings.cache_clear()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is link-local (cloud"),
        ("http://[::1]:8080/hook", "::1 is loopback"),
    ],
)
def test_subscriptions_add_refuses_an_internal_target(
    stack: Settings, url: str, reason: str
) -> None:
    """Issue 27: a webhook or chat target could name the cloud metadata service or loopback;
    `subscriptions add` refuses it, naming the setting that lets an internal receiver through,
    and stores nothing (the outbound guard refuses it at every send too)."""
    s = _prefix(stack)
    env = settings_env(s)
    runner = CliRunner()
    from services.common import settings as settings_mod

    settings_mod.get_settings.cache_clear()
    try:
        outs = [
            runner.invoke(main, ["subscriptions", "add", "desk", *args], env=env)
            for args in (["--target", f"webhook:{url}"], ["--slack", url])
        ]
        listed = runner.invoke(main, ["subscriptions", "list"], env=env)
        settings_mod.get_settings.cache_clear()  # the settings are read once per process
        allowed = runner.invoke(
            main,
            ["subscriptions", "add", "desk", "--target", f"webhook:{url}"],
            env={**env, "NEWSWIRE_OUTBOUND_ALLOW": '["169.254.169.254/32", "::1/128"]'},
        )
    finally:
        settings_mod.get_settings.cache_clear()
    for out in outs:
        assert out.exit_code != 0 and reason in out.output, out.output
        assert "NEWSWIRE_OUTBOUND_ALLOW" in out.output
    assert "desk" not in listed.output
    assert allowed.exit_code == 0, allowed.output
