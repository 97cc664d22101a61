"""Redis key formats, pinned byte for byte: stored data (heartbeats, feeds, the dashboard's
articles) must keep being found after the keys moved into `RedisKeys`."""

from __future__ import annotations

from services.common.topics import RedisKeys


def test_keys_that_moved_into_redis_keys_kept_their_bytes() -> None:
    keys = RedisKeys("nw")
    assert keys.status("alerts", "host-1") == "nw:status:alerts:host-1"
    assert keys.status_pattern == "nw:status:*"
    assert keys.feeds == "nw:feeds"
    assert keys.feed_state("0123abcd") == "nw:feed:0123abcd:state"
    assert keys.feed_seen("0123abcd") == "nw:feed:0123abcd:seen"
    assert keys.ops == "nw:ops"
    assert keys.ops_stream == "nw:stream:ops"
    assert keys.dashboard_article("a1") == "nw:dashboard:article:a1"


def test_the_feed_store_uses_them() -> None:
    from services.ingest.feeds.store import FeedStore, feed_key

    store = FeedStore(client=None, prefix="nw")  # type: ignore[arg-type]
    url = "https://example.org/rss"
    assert store.feeds_key == "nw:feeds"
    assert store._state_key(url) == f"nw:feed:{feed_key(url)}:state"
    assert store._seen_key(url) == f"nw:feed:{feed_key(url)}:seen"
    assert (store.ops_channel, store.ops_stream) == ("nw:ops", "nw:stream:ops")
