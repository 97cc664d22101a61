"""Ingest's posture, the pure parts: the bind check, the client address behind proxies, costs."""

from __future__ import annotations

import ipaddress

import pytest
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict
from pydantic import SecretStr

from services.common.settings import Settings
from services.ingest.http import InsecureBind, RateLimiter, check_exposure, client_address
from services.ingest.publisher import Publisher

BASE = Settings(_env_file=None)  # type: ignore[call-arg]
PROXY = [ipaddress.ip_network("10.0.0.0/8")]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "ingest.example.org"])
def test_a_public_bind_without_a_token_is_refused(host: str) -> None:
    s = BASE.model_copy(update={"http_host": host})
    with pytest.raises(InsecureBind, match="NEWSWIRE_API_TOKEN"):
        check_exposure(s)
    check_exposure(s.model_copy(update={"api_token": SecretStr("t")}))  # with a token: fine


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.5", "::1", "localhost"])
def test_loopback_binds_need_no_token(host: str) -> None:
    check_exposure(BASE.model_copy(update={"http_host": host}))


def test_make_app_refuses_to_build_the_exposed_app() -> None:
    from services.ingest.http import make_app

    s = BASE.model_copy(update={"http_host": "0.0.0.0"})
    with pytest.raises(InsecureBind):
        make_app(s, Publisher(s))


def _request(peer: str, forwarded: str | None = None) -> object:
    headers = CIMultiDict({"X-Forwarded-For": forwarded} if forwarded else {})
    req = make_mocked_request("POST", "/articles", headers=headers)
    req._transport_peername = (peer, 1234)  # type: ignore[attr-defined]
    return req


def test_forwarded_for_is_ignored_without_a_trusted_proxy() -> None:
    req = _request("203.0.113.9", "1.2.3.4")
    assert client_address(req, []) == "203.0.113.9"  # type: ignore[arg-type]


def test_behind_a_trusted_proxy_the_last_untrusted_hop_is_the_client() -> None:
    # The client wrote "6.6.6.6" itself; the proxy 10.0.0.2 appended the real peer 198.51.100.7.
    req = _request("10.0.0.1", "6.6.6.6, 198.51.100.7, 10.0.0.2")
    assert client_address(req, PROXY) == "198.51.100.7"  # type: ignore[arg-type]


def test_an_untrusted_peer_cannot_choose_its_address() -> None:
    req = _request("198.51.100.7", "10.0.0.1")
    assert client_address(req, PROXY) == "198.51.100.7"  # type: ignore[arg-type]


def test_a_batch_costs_its_articles() -> None:
    rl = RateLimiter(rate=1.0, burst=10)
    assert rl.retry_after("t", 0.0, cost=8) == 0.0
    assert rl.retry_after("t", 0.0, cost=3) == pytest.approx(1.0)  # 2 left, 3 asked
    assert rl.retry_after("t", 1.0, cost=3) == 0.0
