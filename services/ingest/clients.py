"""Ingest clients: who holds which token, and which `source` names each may put on an article.

Without this, any client could publish under a real outlet's name and the forged article would
become an alert naming that outlet. A client is bound to its sources (glob patterns; its own
name always); an article claiming another is refused (422, naming the client and what it may
claim), not silently restamped: a client that is misconfigured should hear so at once. The
client's name is recorded on every article (`RawArticle.client`) so alerts can show who sent it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from fnmatch import fnmatchcase

from schemas import RawArticle
from services.common.settings import Settings
from services.ingest.parse import ArticleError

ANYONE = "*"


@dataclass(frozen=True)
class Client:
    name: str
    sources: tuple[str, ...]

    def may_claim(self, source: str) -> bool:
        return source == self.name or any(fnmatchcase(source, p) for p in self.sources)


# Without any token (a loopback-only development set-up) every caller is this one client, named
# as the source unauthenticated articles always had.
ANONYMOUS = Client("http", (ANYONE,))


def clients_of(settings: Settings) -> dict[bytes, Client]:
    """Token -> client: every `api_clients` entry, and `api_token` as one client of any source."""
    table = {
        c.token.get_secret_value().encode(): Client(c.name, tuple(c.sources))
        for c in settings.api_clients
    }
    if settings.api_token is not None:
        table[settings.api_token.get_secret_value().encode()] = Client(
            settings.api_token_client, (ANYONE,)
        )
    return table


def authenticate(table: dict[bytes, Client], given: bytes) -> Client | None:
    """The client holding `given`, comparing against every token in constant time each (no early
    exit, so the time taken does not tell which prefix matched)."""
    found = None
    for token, client in table.items():
        if hmac.compare_digest(given, token):
            found = client
    return found


def claim(article: RawArticle, client: Client) -> RawArticle:
    """The article stamped with its client, if the client may claim its source; else ArticleError."""
    source = article.source if article.source is not None else client.name
    if not client.may_claim(source):
        allowed = ", ".join((client.name, *client.sources))
        raise ArticleError(
            f"source: client {client.name!r} may not publish as {source[:80]!r}; it may claim: "
            f"{allowed[:300]} (NEWSWIRE_API_CLIENTS)"
        )
    return article.model_copy(update={"source": source, "client": client.name})
