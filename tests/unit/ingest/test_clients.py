"""`source` bound to the authenticated client: a client may claim only what it is given."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from schemas import RawArticle
from services.common.settings import ApiClient, Settings
from services.ingest.clients import ANONYMOUS, Client, authenticate, claim, clients_of
from services.ingest.http import Batch, parse_body
from services.ingest.parse import ArticleError

WIRE = Client("wire-a", ("Wire A", "Wire A *"))
SETTINGS = Settings(
    _env_file=None,  # type: ignore[call-arg]
    api_clients=[ApiClient(name="wire-a", token=SecretStr("a" * 16), sources=["Wire A"])],
    api_token=SecretStr("legacy"),
)


def _article(source: str | None) -> RawArticle:
    return RawArticle(title="Port hit", body="Drones hit the port.", source=source)


@pytest.mark.parametrize("source", ["Wire A", "Wire A Kyiv", "wire-a", None])
def test_a_client_claims_its_sources_and_its_name(source: str | None) -> None:
    out = claim(_article(source), WIRE)
    assert out.client == "wire-a" and out.source == (source or "wire-a")


@pytest.mark.parametrize("source", ["Reuters", "wire a", "Wire AB", "Wire A"[:-1]])
def test_a_client_may_not_claim_another_source(source: str) -> None:
    with pytest.raises(ArticleError, match="may not publish as"):
        claim(_article(source), WIRE)


def test_tokens_map_to_clients_the_single_token_being_one_of_any_source() -> None:
    table = clients_of(SETTINGS)
    assert authenticate(table, b"a" * 16) == Client("wire-a", ("Wire A",))
    legacy = authenticate(table, b"legacy")
    assert legacy is not None and legacy.name == "default" and legacy.may_claim("Reuters")
    assert authenticate(table, b"a" * 15) is None and authenticate(table, b"") is None
    assert clients_of(Settings(_env_file=None)) == {}  # type: ignore[call-arg]


def test_parse_body_binds_the_batch_to_its_client_and_drops_a_spoofed_client() -> None:
    raw = b'[{"title": "t", "body": "b", "client": "reuters"}, {"title": "u", "body": "c"}]'
    batch = parse_body(raw, SETTINGS, client=WIRE)
    assert isinstance(batch, Batch)
    assert [(a.source, a.client) for a in batch.articles] == [("wire-a", "wire-a")] * 2
    refused = parse_body(b'{"title": "t", "body": "b", "source": "Reuters"}', SETTINGS, client=WIRE)
    assert not isinstance(refused, Batch) and refused.status == 422
    # Without tokens every caller is the `http` client, as before: any source, `http` by default.
    anon = parse_body(raw, SETTINGS)
    assert isinstance(anon, Batch) and [a.source for a in anon.articles] == ["http", "http"]
    assert ANONYMOUS.may_claim("Reuters")
