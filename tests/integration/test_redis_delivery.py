"""Alert delivery on a real redis-server: atomic dedupe, stream history, channels."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis

from schemas import Alert
from services.common.settings import Settings
from services.common.topics import RedisKeys
from services.delivery.sink import RedisDelivery
from tests.factories import make_alert

pytestmark = pytest.mark.integration


def _alert(rule: str = "missile-strike") -> Alert:
    return make_alert(rule_id=rule, channels=["escalation"])


async def test_same_alert_is_delivered_once(stack: Settings) -> None:
    client = aioredis.Redis.from_url(stack.redis)
    keys = RedisKeys(f"{stack.redis_prefix}-d{uuid.uuid4().hex[:6]}")
    delivery = RedisDelivery(client, keys, ttl_s=60, maxlen=1000)
    sub = client.pubsub(ignore_subscribe_messages=True)
    await sub.psubscribe(keys.pattern)
    alert = _alert()
    first = await delivery.deliver(alert)
    second = await delivery.deliver(alert)
    assert first is not None
    assert second is None
    entries = await client.xrange(keys.stream)
    assert len(entries) == 1
    assert entries[0][1][b"id"] == alert.id.encode()
    channels = set()
    for _ in range(20):
        msg = await sub.get_message(timeout=0.5)
        if msg:
            channels.add(msg["channel"].decode())
        elif len(channels) >= 5:
            break
    assert channels == {
        keys.all_alerts,
        keys.severity("high"),
        keys.rule("missile-strike"),
        keys.country("UA"),
        keys.named("escalation"),
    }
    await sub.aclose()
    await client.aclose()


async def test_stream_is_capped(stack: Settings) -> None:
    client = aioredis.Redis.from_url(stack.redis)
    keys = RedisKeys(f"{stack.redis_prefix}-c{uuid.uuid4().hex[:6]}")
    delivery = RedisDelivery(client, keys, ttl_s=60, maxlen=10)
    for _ in range(500):
        await delivery.deliver(_alert())
    assert await client.xlen(keys.stream) < 500
    await client.aclose()


async def test_a_batch_is_delivered_in_order_once_per_alert(stack: Settings) -> None:
    """deliver_many: one pipeline; repeats in the batch or from an earlier batch are dropped."""
    client = aioredis.Redis.from_url(stack.redis)
    keys = RedisKeys(f"{stack.redis_prefix}-m{uuid.uuid4().hex[:6]}")
    delivery = RedisDelivery(client, keys, ttl_s=60, maxlen=1000)
    a, b = _alert("missile-strike"), _alert("drone-attack")
    assert await delivery.deliver(a) is not None
    got = await delivery.deliver_many([a, b, b])
    assert got[0] is None and got[1] is not None and got[2] is None
    entries = await client.xrange(keys.stream)
    assert [e[1][b"id"] for e in entries] == [a.id.encode(), b.id.encode()]
    await client.aclose()


async def test_the_story_commit_delivers_as_the_plain_delivery_does(stack: Settings) -> None:
    """Both scripts run the one `deliver` Lua function: the story commit publishes on the same
    channels, and an alert either delivered first is not delivered again by the other."""
    from services.alerts.core import StoryEngine, StoryState, propose
    from services.alerts.store import RedisStories
    from services.delivery.sink import channels_for
    from tests.integration.test_story_state import RULES, copies

    client = aioredis.Redis.from_url(stack.redis)
    keys = RedisKeys(f"{stack.redis_prefix}-s{uuid.uuid4().hex[:6]}")
    plain = RedisDelivery(client, keys, ttl_s=60, maxlen=1000)
    stories = StoryEngine(RedisStories(client, keys, dedupe_ttl_s=60, maxlen=1000))
    first, update = (propose(t, RULES) for t in (copies()[0], copies()[-1]))
    sub = client.pubsub(ignore_subscribe_messages=True)
    await sub.psubscribe(keys.pattern)
    [strike] = (await stories.settle(first)).alerts
    assert await plain.deliver(strike) is None  # the story commit delivered it
    wanted, channels = set(channels_for(strike, keys)), set()
    for _ in range(20):  # None for the (ignored) subscribe confirmation too
        msg = await sub.get_message(timeout=0.5)
        if msg:
            channels.add(msg["channel"].decode())
        elif channels == wanted:
            break
    assert channels == wanted
    offline = StoryState()
    offline.settle_now(first)
    rises = offline.settle_now(update).alerts  # the same ids the Redis store will raise
    assert rises and [await plain.deliver(a) for a in rises] != [None] * len(rises)
    again = await stories.settle(update)
    assert [a.id for a in again.alerts] == [a.id for a in rises]
    assert again.entries == [None] * len(rises)  # delivered before, by the plain delivery
    ids = [e[1][b"id"].decode() for e in await client.xrange(keys.stream)]
    assert sorted(ids) == sorted([strike.id, *(a.id for a in rises)])
    await sub.aclose()
    await client.aclose()
