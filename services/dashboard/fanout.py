"""One reader of the alert stream per process, fanned out to bounded per-client queues.

Each SSE client used to hold its own blocking Redis read: 100 open pages took 100 connections and
starved the feeds and the API. Now one task reads the stream and copies each entry into every
client's queue; a client whose queue is full is dropped (it reconnects with Last-Event-ID and
catches up from the stream), so a slow reader can neither grow memory nor hold up the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

log = logging.getLogger(__name__)
Entry = tuple[str, str]  # (stream entry id, alert JSON)


def entry_order(entry_id: str) -> tuple[int, int]:
    """Stream ids sort as (milliseconds, sequence), not as text."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class Listener:
    """One SSE client's view of the fan-out: its queue, and whether it was dropped."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[Entry] = asyncio.Queue(size)
        self.dropped = asyncio.Event()


class Fanout:
    def __init__(self, max_clients: int, queue_size: int) -> None:
        self.max_clients = max_clients
        self.queue_size = queue_size
        self.listeners: set[Listener] = set()
        self.dropped_total = 0

    def join(self) -> Listener | None:
        """A new listener, or None when max_clients are already listening."""
        if len(self.listeners) >= self.max_clients:
            return None
        listener = Listener(self.queue_size)
        self.listeners.add(listener)
        return listener

    def leave(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    def publish(self, entries: Sequence[Entry]) -> None:
        """Copy entries into every queue; a listener with no room left is dropped, never waited for."""
        for listener in list(self.listeners):
            for entry in entries:
                try:
                    listener.queue.put_nowait(entry)
                except asyncio.QueueFull:
                    listener.dropped.set()
                    self.listeners.discard(listener)
                    self.dropped_total += 1
                    break

    async def run(
        self,
        start: Callable[[], Awaitable[str]],
        read: Callable[[str], Awaitable[list[Entry]]],
        retry_s: float = 1.0,
    ) -> None:
        """Read from the stream's current end forever (start() gives its last id), publishing each
        batch; a failed read is logged and retried from the same cursor, so nothing is skipped."""
        cursor: str | None = None
        while True:
            try:
                if cursor is None:
                    cursor = await start()
                batch = await read(cursor)
            except Exception as exc:
                log.warning("dashboard stream reader: %s: %s", type(exc).__name__, exc)
                await asyncio.sleep(retry_s)
                continue
            if batch:
                self.publish(batch)
                cursor = batch[-1][0]
