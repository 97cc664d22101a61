"""Catching up from the alert stream: what a subscriber missed while offline."""

from __future__ import annotations

from datetime import UTC, datetime

import redis.asyncio as aioredis

from schemas import Alert
from services.common.topics import RedisKeys


def stream_start(since: str) -> str:
    """A stream id ("1732000000000-0", exclusive) or an ISO time / epoch seconds (inclusive)."""
    if "-" in since and since.replace("-", "").isdigit():
        return f"({since}"
    try:
        ts = float(since)
    except ValueError:
        dt = datetime.fromisoformat(since.replace("Z", "+00:00"))
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        ts = dt.timestamp()
    return str(int(ts * 1000))


async def read_since(
    client: aioredis.Redis, keys: RedisKeys, since: str, batch: int = 500
) -> list[tuple[str, Alert]]:
    """Every alert in the stream after `since`, oldest first, with its stream id."""
    out: list[tuple[str, Alert]] = []
    start = stream_start(since)
    while True:
        entries = await client.xrange(keys.stream, min=start, max="+", count=batch) or []
        for entry_id, fields in entries:
            if not fields:
                continue
            sid = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            out.append((sid, Alert.model_validate_json(fields[b"alert"])))
        if len(entries) < batch:
            return out
        start = f"({out[-1][0]}"
