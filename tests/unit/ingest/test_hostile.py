"""Hostile input rules of ingest: each rejection names the field; nothing odd gets through."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiokafka.errors import OutOfOrderSequenceNumber
from hypothesis import given
from hypothesis import strategies as st

from schemas import RawArticle
from services.common.settings import Settings
from services.ingest.http import RateLimiter, parse_body
from services.ingest.parse import ArticleError, Limits, check_article, from_mapping
from services.ingest.publisher import Publisher

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def art(**kw: Any) -> RawArticle:
    return from_mapping({"title": "Strike", "body": "A missile strike.", **kw})


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"title": "   "}, "title: must not be blank"),
        ({"body": "\n\t "}, "body: must not be blank"),
        ({"title": "bell\x07"}, "title: control character U+0007"),
        ({"body": "nul \x00 here"}, "body: control character U+0000"),
        ({"body": "c1 \x85"}, "body: control character U+0085"),
        ({"url": "https://x/\x1b"}, "url: control character U+001B"),
        ({"url": "not a url"}, "url: must be an absolute http(s) URL"),
        ({"url": "/relative/path"}, "url: must be an absolute http(s) URL"),
        ({"url": "ftp://example.org/a"}, "url: must be an absolute http(s) URL"),
        ({"url": "https://"}, "url: must be an absolute http(s) URL"),
        ({"published_at": "1800-01-01T00:00:00Z"}, "published_at: 1800-01-01"),
        ({"published_at": "2099-01-01T00:00:00"}, "in the future"),
    ],
)
def test_check_article_names_the_field(fields: dict[str, str], says: str) -> None:
    with pytest.raises(ArticleError, match=re.escape(says)):
        check_article(art(**fields), NOW)


def test_lone_surrogate_is_rejected_naming_the_field() -> None:
    with pytest.raises(ArticleError, match=r"title: .*unicode"):
        check_article(art(title="half \ud800 pair"), NOW)


def test_plain_article_with_newlines_and_recent_date_passes() -> None:
    a = art(body="Line one.\r\nLine\ttwo.", published_at="2025-12-31T23:00:00+00:00")
    assert check_article(a, NOW) is a


def test_limits_are_configurable() -> None:
    a = art(published_at="2025-12-01T00:00:00Z")
    with pytest.raises(ArticleError, match="more than 7 days"):
        check_article(a, NOW, Limits(max_past=timedelta(days=7)))


@given(st.text(max_size=50), st.text(max_size=50))
def test_accepted_articles_are_clean_utf8(title: str, body: str) -> None:
    try:
        a = check_article(from_mapping({"title": title, "body": body}), NOW)
    except ArticleError as exc:
        assert str(exc).split(":")[0] in ("title", "body")
    else:
        assert a.title.strip() and a.body.strip()
        a.model_dump_json().encode("utf-8")  # serialisable as UTF-8


def _status(raw: bytes, **settings: Any) -> tuple[int, str]:
    out = parse_body(raw, Settings(_env_file=None, **settings))  # type: ignore[call-arg]
    if isinstance(out, web.Response):
        assert out.text is not None
        return out.status, out.text
    return 202, ""


@pytest.mark.parametrize(
    ("raw", "status", "says"),
    [
        (b"[" * 100_000, 400, "nested too deeply"),
        (b"\xc3\x28", 400, "not UTF-8"),
        (b'{"title": "t"', 400, "invalid JSON"),
        (b'[{"title": "t", "body": "b"}, {"title": "t2", "body": 7}]', 422, '"index": 1'),
        (
            b'[{"title": "t", "body": "b"}, {"title": "t", "body": "b"}, {"title": "t", "body": "c"}]',
            413,
            "at most 2",
        ),
        (b'{"title": "t", "body": "b"}', 202, ""),
        (b'{"title": "t", "body": "b", "url": "not a url"}', 422, "url: must be an absolute"),
        (b'{"title": "t", "body": "b", "url": "https://example.org/a"}', 202, ""),
    ],
)
def test_parse_body(raw: bytes, status: int, says: str) -> None:
    got, text = _status(raw, max_batch=2)
    assert got == status
    assert says in text


def test_rate_limiter_lets_a_burst_through_then_asks_to_wait() -> None:
    rl = RateLimiter(rate=2.0, burst=3)
    assert [rl.retry_after("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert rl.retry_after("a", 0.0) == pytest.approx(0.5)
    assert rl.retry_after("b", 0.0) == 0.0  # per client
    assert rl.retry_after("a", 1.0) == 0.0  # refilled


def test_rate_limiter_forgets_old_clients() -> None:
    rl = RateLimiter(rate=1.0, burst=1, max_clients=2)
    for c in "abc":
        rl.retry_after(c, 0.0)
    assert rl.retry_after("a", 0.0) == 0.0  # "a" was evicted, so it has a full bucket again


class _FlakyProducer:
    """Stands in for aiokafka only to test Publisher.publish's reset path."""

    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.sent: list[bytes] = []

    async def send(self, topic: str, value: bytes, key: bytes) -> asyncio.Future[object]:
        fut: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        if self.fail:
            fut.set_exception(OutOfOrderSequenceNumber())
        else:
            self.sent.append(key)
            fut.set_result(None)
        return fut

    async def stop(self) -> None:
        pass


async def test_publisher_recreates_producer_and_resends_on_sequence_errors() -> None:
    pub = Publisher(Settings(_env_file=None))  # type: ignore[call-arg]
    made = [_FlakyProducer(fail=True), _FlakyProducer(fail=False)]

    async def ensure() -> Any:
        if pub._producer is None:
            pub._producer = made.pop(0)  # type: ignore[assignment]
        return pub._producer

    pub._ensure = ensure  # type: ignore[method-assign]
    a = art()
    assert await pub.publish([a]) == [a.id]
    assert pub.resets == 1
    assert pub._producer.sent == [a.id.encode()]  # type: ignore[attr-defined]
