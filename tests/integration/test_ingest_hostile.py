"""Hostile clients against a real ingest server on real Kafka: 4xx that name the field, auth, rate
limits, 503 when Kafka is away, and a property test throwing random and mutated payloads."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from services.common.kafka import ensure_topics
from services.common.settings import Settings
from services.common.topics import Topics
from services.ingest.http import make_app
from services.ingest.publisher import Publisher
from tests.conftest import free_port, read_topic

pytestmark = pytest.mark.integration
JSON = {"Content-Type": "application/json"}


class Server:
    """The real aiohttp app on a free port, in a thread with its own event loop."""

    def __init__(self, s: Settings) -> None:
        self.s = s.model_copy(update={"http_port": free_port()})
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        runner = web.AppRunner(make_app(self.s, Publisher(self.s)))
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", self.s.http_port)
        self.loop.run_until_complete(site.start())
        self.started.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())

    def __enter__(self) -> Server:
        self.thread.start()
        assert self.started.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)

    def post(
        self, body: bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.s.http_port}/articles",
            data=body,
            headers=JSON if headers is None else headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read()), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}"), dict(e.headers)


@pytest.fixture(scope="module")
def server(stack: Settings) -> Iterator[Server]:
    asyncio.run(ensure_topics(stack))
    with Server(stack.model_copy(update={"rate_limit_per_s": 0.0})) as srv:
        yield srv


def art(i: int | str, **kw: Any) -> dict[str, Any]:
    return {"title": f"Drone attack {i}", "body": f"Drones hit the port {i}.", **kw}


@pytest.mark.parametrize(
    ("payload", "status", "says"),
    [
        (art(1, body="x\x00y"), 422, "body: control character U+0000"),
        (art(2, title="\x1b[31mred"), 422, "title: control character U+001B"),
        (art(3, published_at="1066-10-14T00:00:00Z"), 422, "published_at"),
        (art(4, published_at="2999-01-01T00:00:00Z"), 422, "in the future"),
        (art(5, title=["list"]), 422, "title"),
        (art(6, url=7), 422, "url"),
        ({"title": "   ", "body": "b"}, 422, "title: must not be blank"),
    ],
)
def test_hostile_article_is_refused_naming_the_field(
    server: Server, payload: dict[str, Any], status: int, says: str
) -> None:
    code, doc, _ = server.post(json.dumps(payload).encode())
    assert code == status
    assert says in json.dumps(doc)


def test_too_many_items_and_oversize_body(stack: Settings) -> None:
    small = stack.model_copy(update={"max_batch": 3, "max_body_bytes": 4096})
    with Server(small) as srv:
        code, doc, _ = srv.post(json.dumps([art(i) for i in range(4)]).encode())
        assert (code, "at most 3" in doc["error"]) == (413, True)
        code, doc, _ = srv.post(json.dumps(art("big", body="x" * 5000)).encode())
        assert (code, "larger than 4096" in doc["error"]) == (413, True)


def test_bearer_token_and_rate_limit(stack: Settings) -> None:
    guarded = stack.model_copy(
        update={"api_token": SecretStr("t0ken-abc"), "rate_limit_per_s": 0.5, "rate_limit_burst": 3}
    )
    with Server(guarded) as srv:
        body = json.dumps(art("auth")).encode()
        code, doc, hdrs = srv.post(body)
        assert code == 401 and "bearer token" in doc["error"]
        assert "t0ken" not in json.dumps(doc)
        assert srv.post(body, {**JSON, "Authorization": "Bearer wrong"})[0] == 401
        assert srv.post(body, {**JSON, "Authorization": "Bearer t0ken-abc"})[0] == 202
        code, doc, hdrs = srv.post(body, {**JSON, "Authorization": "Bearer t0ken-abc"})
        assert code == 429 and int(hdrs["Retry-After"]) >= 1


def test_kafka_unreachable_gives_503_with_retry_after(stack: Settings) -> None:
    nowhere = stack.model_copy(
        update={"kafka_bootstrap_servers": f"127.0.0.1:{free_port()}", "send_timeout_s": 2.0}
    )
    with Server(nowhere) as srv:
        code, doc, hdrs = srv.post(json.dumps(art("503")).encode())
    assert code == 503
    assert hdrs["Retry-After"] == "5"
    assert "nothing is accepted" in doc["error"]


# ---- property test ---------------------------------------------------------------------------
VALID = json.dumps([art("seed-a"), art("seed-b")]).encode()
json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_doc = st.recursive(
    json_leaf,
    lambda c: (
        st.lists(c, max_size=4)
        | st.dictionaries(st.sampled_from(["title", "body", "url", "published_at", "x"]), c)
    ),
    max_leaves=12,
)


@st.composite
def payloads(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["json", "bytes", "mutated", "article"]))
    if kind == "json":
        return json.dumps(draw(json_doc)).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "mutated":  # a valid batch with bytes flipped, cut or inserted
        data = bytearray(VALID)
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
        return bytes(data[: draw(st.integers(1, len(data)))])
    title = draw(st.text(min_size=1, max_size=40))
    body = draw(st.text(min_size=1, max_size=200))
    return json.dumps({"title": title, "body": body}).encode()


ACCEPTED: list[str] = []


@settings(
    max_examples=int(os.environ.get("NEWSWIRE_PROPERTY_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payloads())
def test_random_payloads_never_break_the_api(server: Server, body: bytes) -> None:
    code, doc, _ = server.post(body)
    assert code in (202, 400, 413, 422), (code, body, doc)
    if code == 202:
        ACCEPTED.extend(doc["ids"])
    else:
        assert doc["error"]


async def test_every_accepted_payload_is_on_the_raw_topic(server: Server, stack: Settings) -> None:
    """Runs after the property test (file order): each 202 id was acknowledged by Kafka."""
    if not ACCEPTED:
        pytest.skip("the property test accepted nothing (run it first)")
    records = await read_topic(stack, Topics.from_settings(stack).raw, idle_polls=4)
    assert set(ACCEPTED) <= {r.key.decode() for r in records if r.key}
