"""Hostile clients against a real ingest server on real Kafka: 4xx that name the field, auth, rate
limits, 503 when Kafka is away, and a property test throwing random and mutated payloads."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
        return self.call("POST", "/articles", body, JSON if headers is None else headers)

    def call(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.s.http_port}{path}",
            data=body if method not in ("GET", "DELETE") else None,
            headers=headers,
            method=method,
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw, status, hdrs = r.read(), r.status, dict(r.headers)
        except urllib.error.HTTPError as e:
            raw, status, hdrs = e.read(), e.code, dict(e.headers)
        try:
            return status, json.loads(raw or b"{}"), hdrs
        except ValueError:  # /metrics is Prometheus text
            return status, {"text": raw.decode(errors="replace")}, hdrs


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


# ---- the hostile catalogue (issue 27): every case a 4xx that says what to fix, nothing stored ----
MARK = f"hostile-{uuid.uuid4().hex}"
TOKEN = "h0stile-t0ken"
AUTH = {**JSON, "Authorization": f"Bearer {TOKEN}"}


def ok(**kw: Any) -> dict[str, Any]:
    return {"title": f"Shelling {MARK}", "body": f"Shells hit the town. {MARK}", **kw}


def doc(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def ahead(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


# (id, method, path, headers, body, status, what the answer must say)
CASES: list[tuple[str, str, str, dict[str, str], bytes, int, str]] = [
    # malformed
    ("truncated-json", "POST", "/articles", AUTH, b'{"title": "t"', 400, "invalid JSON at line 1"),
    ("empty-body", "POST", "/articles", AUTH, b"", 400, "invalid JSON"),
    ("bare-word", "POST", "/articles", AUTH, b"nul", 400, "invalid JSON"),
    ("not-utf8", "POST", "/articles", AUTH, b"\xff\xfe{}", 400, "not UTF-8"),
    ("nested-deep", "POST", "/articles", AUTH, b"[" * 50_000, 400, "nested too deeply"),
    ("4301-digits", "POST", "/articles", AUTH, b'{"title": ' + b"9" * 4301 + b"}", 400, "digits"),
    ("trailing-data", "POST", "/articles", AUTH, doc(ok()) + b" x", 400, "Extra data"),
    ("empty-list", "POST", "/articles", AUTH, b"[]", 422, "empty list"),
    # wrong types
    ("string-doc", "POST", "/articles", AUTH, doc(MARK), 422, "expected a JSON object"),
    ("number-doc", "POST", "/articles", AUTH, b"42", 422, "expected a JSON object"),
    ("null-doc", "POST", "/articles", AUTH, b"null", 422, "expected a JSON object"),
    ("list-of-numbers", "POST", "/articles", AUTH, b"[1, 2]", 422, '"index": 1'),
    ("title-list", "POST", "/articles", AUTH, doc(ok(title=[MARK])), 422, "title: Input should be"),
    ("title-nan", "POST", "/articles", AUTH, b'{"title": NaN, "body": "b"}', 422, "title"),
    ("body-number", "POST", "/articles", AUTH, doc(ok(body=7)), 422, "body: Input should be"),
    ("url-number", "POST", "/articles", AUTH, doc(ok(url=7)), 422, "url: Input should be"),
    ("date-word", "POST", "/articles", AUTH, doc(ok(published_at="yesterday")), 422, "published"),
    ("date-epoch-int", "POST", "/articles", AUTH, doc(ok(published_at=12345)), 422, "before 1980"),
    ("language-object", "POST", "/articles", AUTH, doc(ok(language={})), 422, "language"),
    ("source-bool", "POST", "/articles", AUTH, doc(ok(source=True)), 422, "source"),
    # oversized
    ("title-2001", "POST", "/articles", AUTH, doc(ok(title="t" * 2001)), 422, "at most 2000"),
    ("body-100001", "POST", "/articles", AUTH, doc(ok(body="b" * 100_001)), 422, "at most 100000"),
    ("source-900k", "POST", "/articles", AUTH, doc(ok(source="s" * 900_000)), 422, "at most 200"),
    (
        "language-900k",
        "POST",
        "/articles",
        AUTH,
        doc(ok(language="l" * 900_000)),
        422,
        "at most 35",
    ),
    ("url-4097", "POST", "/articles", AUTH, doc(ok(url="https://x.org/" + "u" * 4090)), 422, "url"),
    ("batch-of-6", "POST", "/articles", AUTH, doc([ok(i=0)] * 6), 413, "at most 5"),
    ("body-1.1MB", "POST", "/articles", AUTH, doc(ok(body="b" * 1_100_000)), 413, "larger than"),
    # spoofed fields (stage outputs a client may not set)
    ("spoof-severity", "POST", "/articles", AUTH, doc(ok(severity="critical")), 422, "severity"),
    ("spoof-entities", "POST", "/articles", AUTH, doc(ok(entities=[MARK])), 422, "entities"),
    ("spoof-ingested", "POST", "/articles", AUTH, doc(ok(ingested=ahead(0))), 422, "ingested"),
    ("spoof-score", "POST", "/articles", AUTH, doc(ok(score=1.0)), 422, "Extra inputs"),
    # content types
    (
        "text-plain",
        "POST",
        "/articles",
        {**AUTH, "Content-Type": "text/plain"},
        doc(ok()),
        415,
        "application/json",
    ),
    (
        "form",
        "POST",
        "/articles",
        {**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
        b"title=x",
        415,
        "application/json",
    ),
    (
        "no-content-type",
        "POST",
        "/articles",
        {"Authorization": AUTH["Authorization"]},
        doc(ok()),
        415,
        "application/json",
    ),
    # bad dates and links
    (
        "date-1900",
        "POST",
        "/articles",
        AUTH,
        doc(ok(published_at="1900-01-01T00:00:00Z")),
        422,
        "before 1980-01-01",
    ),
    (
        "date-1979",
        "POST",
        "/articles",
        AUTH,
        doc(ok(published_at="1979-12-31T23:59:59Z")),
        422,
        "before 1980-01-01",
    ),
    (
        "date-2090",
        "POST",
        "/articles",
        AUTH,
        doc(ok(published_at="2090-01-01T00:00:00Z")),
        422,
        "in the future",
    ),
    (
        "date-3-days-ahead",
        "POST",
        "/articles",
        AUTH,
        doc(ok(published_at=ahead(3))),
        422,
        "in the future",
    ),
    (
        "url-javascript",
        "POST",
        "/articles",
        AUTH,
        doc(ok(url="javascript:alert(1)")),
        422,
        "absolute http(s) URL",
    ),
    (
        "url-data",
        "POST",
        "/articles",
        AUTH,
        doc(ok(url="data:text/html,<b>x</b>")),
        422,
        "absolute http(s) URL",
    ),
    (
        "url-file",
        "POST",
        "/articles",
        AUTH,
        doc(ok(url="file:///etc/passwd")),
        422,
        "absolute http(s) URL",
    ),
    (
        "url-scheme-relative",
        "POST",
        "/articles",
        AUTH,
        doc(ok(url="//example.org/a")),
        422,
        "absolute http(s) URL",
    ),
    (
        "url-space",
        "POST",
        "/articles",
        AUTH,
        doc(ok(url="http://exa mple.org/")),
        422,
        "absolute http(s) URL",
    ),
    (
        "url-ftp",
        "POST",
        "/articles",
        AUTH,
        doc(ok(url="ftp://example.org/a")),
        422,
        "absolute http(s) URL",
    ),
    (
        "url-bad-port",
        "POST",
        "/articles",
        AUTH,
        doc(ok(url="http://example.org:99999/")),
        422,
        "url: Value error, not a URL (Port out of range",
    ),
    # control and invisible characters
    (
        "title-nul",
        "POST",
        "/articles",
        AUTH,
        doc(ok(title=f"a\x00{MARK}")),
        422,
        "title: control character U+0000",
    ),
    (
        "body-escape",
        "POST",
        "/articles",
        AUTH,
        doc(ok(body=f"\x1b[2J{MARK}")),
        422,
        "body: control character U+001B",
    ),
    (
        "source-bell",
        "POST",
        "/articles",
        AUTH,
        doc(ok(source="Reuters\x07")),
        422,
        "source: control character U+0007",
    ),
    (
        "language-nul",
        "POST",
        "/articles",
        AUTH,
        doc(ok(language="en\x00")),
        422,
        "language: control character",
    ),
    (
        "title-c1",
        "POST",
        "/articles",
        AUTH,
        doc(ok(title=f"\x85{MARK}")),
        422,
        "title: control character U+0085",
    ),
    (
        "title-surrogate",
        "POST",
        "/articles",
        AUTH,
        b'{"title": "half \\ud800", "body": "b"}',
        422,
        "title: Input should be a valid string, unable to parse raw data as a unicode",
    ),
    (
        "title-invisible-only",
        "POST",
        "/articles",
        AUTH,
        doc(ok(title="\u200b\u202e\u2066")),
        422,
        "title: String should have at least 1",
    ),
    (
        "title-blank",
        "POST",
        "/articles",
        AUTH,
        doc(ok(title="   ")),
        422,
        "title: must not be blank",
    ),
    (
        "partial-none-valid",
        "POST",
        "/articles?partial=true",
        AUTH,
        doc([ok(body=7)]),
        422,
        "no valid article",
    ),
    # unauthenticated, on every route that is not a probe
    ("no-token", "POST", "/articles", JSON, doc(ok()), 401, "bearer token"),
    (
        "wrong-token",
        "POST",
        "/articles",
        {**JSON, "Authorization": "Bearer nope"},
        doc(ok()),
        401,
        "bearer token",
    ),
    (
        "basic-auth",
        "POST",
        "/articles",
        {**JSON, "Authorization": "Basic aDp0"},
        doc(ok()),
        401,
        "bearer token",
    ),
    (
        "empty-bearer",
        "POST",
        "/articles",
        {**JSON, "Authorization": "Bearer "},
        doc(ok()),
        401,
        "bearer token",
    ),
    (
        "token-prefix",
        "POST",
        "/articles",
        {**JSON, "Authorization": f"Bearer {TOKEN[:-1]}"},
        doc(ok()),
        401,
        "bearer token",
    ),
    ("metrics-no-token", "GET", "/metrics", {}, b"", 401, "bearer token"),
    ("status-no-token", "GET", "/status", {}, b"", 401, "bearer token"),
    ("unknown-no-token", "GET", "/admin", {}, b"", 401, "bearer token"),
    # every route, wrong method or path
    ("get-articles", "GET", "/articles", AUTH, b"", 405, "use POST"),
    ("put-articles", "PUT", "/articles", AUTH, doc(ok()), 405, "use POST"),
    ("delete-articles", "DELETE", "/articles", AUTH, b"", 405, "use POST"),
    ("post-health", "POST", "/health", JSON, doc(ok()), 405, "use GET"),
    ("post-metrics", "POST", "/metrics", AUTH, doc(ok()), 405, "use GET"),
    ("unknown-path", "GET", "/articles/../etc", AUTH, b"", 404, "POST /articles"),
    ("unknown-post", "POST", "/article", AUTH, doc(ok()), 404, "POST /articles"),
]


@pytest.fixture(scope="module")
def guarded(stack: Settings) -> Iterator[Server]:
    asyncio.run(ensure_topics(stack))
    s = stack.model_copy(
        update={"api_token": SecretStr(TOKEN), "rate_limit_per_s": 0.0, "max_batch": 5}
    )
    with Server(s) as srv:
        yield srv


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "says"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_hostile_request_gets_the_right_4xx(
    guarded: Server,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
    says: str,
) -> None:
    code, answer, _ = guarded.call(method, path, body, headers)
    assert (code, says in json.dumps(answer, ensure_ascii=False)) == (status, True), answer
    assert answer["error"], "every refusal says what to fix"
    assert TOKEN not in json.dumps(answer)


def test_the_catalogue_is_big_enough() -> None:
    assert len(CASES) >= 40 and len({c[0] for c in CASES}) == len(CASES)


def test_a_valid_article_passes_the_same_server(guarded: Server) -> None:
    """The control: the server refusing the catalogue accepts a clean article (and stores it)."""
    code, answer, _ = guarded.call("POST", "/articles", doc(ok(title="Clean one")), AUTH)
    assert code == 202 and answer["accepted"] == 1
    CONTROL.extend(answer["ids"])


CONTROL: list[str] = []


async def test_nothing_of_the_catalogue_reached_the_raw_topic(stack: Settings) -> None:
    """Runs after the catalogue (file order): no refused payload is on the raw topic."""
    records = await read_topic(stack, Topics.from_settings(stack).raw, idle_polls=4)
    keys = {r.key.decode() for r in records if r.key}
    assert set(CONTROL) <= keys, "the control article must be there: the reader works"
    marked = [r.value for r in records if r.value and MARK.encode() in r.value]
    assert len(marked) == len(CONTROL), "only the control article carries the mark"


def test_per_token_article_limit_counts_articles_not_requests(stack: Settings) -> None:
    limited = stack.model_copy(
        update={
            "api_token": SecretStr(TOKEN),
            "rate_limit_per_s": 0.0,
            "rate_limit_articles_per_s": 0.01,
            "rate_limit_articles_burst": 4,
        }
    )
    with Server(limited) as srv:
        code, answer, _ = srv.call(
            "POST", "/articles", doc([art(f"lim{i}") for i in range(5)]), AUTH
        )
        assert (code, "NEWSWIRE_RATE_LIMIT_ARTICLES_BURST" in answer["error"]) == (413, True)
        assert (
            srv.call("POST", "/articles", doc([art(f"lim{i}") for i in range(3)]), AUTH)[0] == 202
        )
        assert srv.call("POST", "/articles", doc([art("lim3")]), AUTH)[0] == 202
        code, answer, hdrs = srv.call("POST", "/articles", doc([art("lim4")]), AUTH)
        assert (code, "articles per token" in answer["error"]) == (429, True)
        assert int(hdrs["Retry-After"]) >= 1


def test_metrics_and_status_open_with_the_token(guarded: Server) -> None:
    for path in ("/metrics", "/status"):
        assert guarded.call("GET", path, b"", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    assert guarded.call("GET", "/livez", b"", {})[0] == 200  # probes stay open
