"""The dispatcher's loop against a Redis that fails: what it retries and what it dead-letters."""

from __future__ import annotations

import json
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from services.common.topics import RedisKeys
from services.delivery.dispatch import Config, dispatch


class FlakyRedis:
    """Two dropped connections, then one undecodable entry, then an error that is no outage."""

    def __init__(self) -> None:
        self.reads = 0
        self.acked: list[tuple[Any, ...]] = []
        self.dead: list[dict[str, Any]] = []

    async def xgroup_create(self, *args: Any, **kw: Any) -> None:
        return None

    def register_script(self, script: str) -> None:
        return None

    async def hgetall(self, key: str) -> dict[bytes, bytes]:
        return {}

    async def xreadgroup(self, *args: Any, **kw: Any) -> Any:
        self.reads += 1
        if self.reads <= 2:
            raise RedisConnectionError("Connection reset by peer")
        if self.reads == 3:
            return [[b"s", [(b"1-0", {b"alert": b'{"id": "x"'})]]]
        raise ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")

    async def xack(self, stream: str, group: str, *ids: str) -> int:
        self.acked.append(ids)
        return len(ids)

    async def xadd(self, stream: str, fields: dict[str, str], **kw: Any) -> bytes:
        self.dead.append(json.loads(fields["record"]))
        return b"1-0"


async def test_only_connection_errors_are_retried_and_a_bad_entry_is_dead_lettered() -> None:
    client = FlakyRedis()
    with pytest.raises(ResponseError, match="WRONGTYPE"):  # deterministic: raised, not retried
        await dispatch(client, RedisKeys("t"), Config(), block_ms=1)  # type: ignore[arg-type]
    assert client.reads == 4  # two dropped reads retried, then the entry, then the error
    assert client.acked == [("1-0",)]
    assert [(d["kind"], d["entry_id"]) for d in client.dead] == [("stream", "1-0")]
    assert "invalid alert" in client.dead[0]["errors"][0]
