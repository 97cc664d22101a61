"""Stopping an aiokafka consumer: aiokafka's own CancelledError is not the caller's."""

from __future__ import annotations

import asyncio

import pytest

from services.common.kafka import stop_quietly


class _Consumer:
    """Stops the way aiokafka 0.14's consumer without a group can: it awaits a task it cancelled
    before that task ever ran, so `stop()` raises CancelledError."""

    async def stop(self) -> None:
        task = asyncio.create_task(asyncio.sleep(1))
        task.cancel()
        await task


async def test_aiokafkas_own_cancelled_error_is_dropped() -> None:
    with pytest.raises(asyncio.CancelledError):  # what the chaos campaign's reads met
        await _Consumer().stop()
    await stop_quietly(_Consumer())  # returns


async def test_the_callers_own_cancellation_is_raised() -> None:
    class Slow:
        async def stop(self) -> None:
            await asyncio.sleep(10)

    task = asyncio.create_task(stop_quietly(Slow()))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


def test_wait_for_broker_returns_once_a_bootstrap_server_listens() -> None:
    import socket
    import threading
    import time

    from services.common.kafka import wait_for_broker
    from services.common.settings import Settings

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # a free port: nothing listens yet
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    def listen_later() -> None:
        time.sleep(0.8)
        server.bind(("127.0.0.1", port))
        server.listen()

    t = threading.Thread(target=listen_later)
    t.start()
    began = time.monotonic()
    try:
        wait_for_broker(Settings(kafka_bootstrap_servers=f"127.0.0.1:{port}"), wait_s=10)
        assert time.monotonic() - began >= 0.7  # it waited for the listener
    finally:
        t.join()
        server.close()


def test_wait_for_broker_gives_up_with_a_clear_error() -> None:
    from services.common.kafka import wait_for_broker
    from services.common.settings import Settings

    with pytest.raises(ConnectionError, match=r"no Kafka broker reachable at 127\.0\.0\.1:9"):
        wait_for_broker(Settings(kafka_bootstrap_servers="127.0.0.1:9"), wait_s=0)
