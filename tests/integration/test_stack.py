"""The local stack itself: readiness, port conflicts, clean stop."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from services.common.probes import kafka_ready, redis_ready
from services.common.settings import Settings
from services.devstack.stack import LocalStack, StackError
from tests.conftest import free_port

pytestmark = pytest.mark.integration


async def test_stack_answers_metadata_and_ping(stack: Settings) -> None:
    assert await kafka_ready(stack)
    assert await redis_ready(stack)


def test_taken_port_fails_with_a_message_naming_it(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        s = Settings(state_dir=tmp_path, redis_port=port, kafka_port=free_port())
        with pytest.raises(StackError, match=f"port {port} is already in use"):
            LocalStack(s).start_redis()


def test_redis_up_and_down_leaves_no_process(tmp_path: Path) -> None:
    s = Settings(state_dir=tmp_path, redis_port=free_port())
    local = LocalStack(s)
    assert local.start_redis()
    pid = int(local.redis.pidfile.read_text())
    assert "running" in local.status()["redis"]
    assert local.down() == ["redis"]
    assert local.status()["redis"] == "stopped"
    with pytest.raises(ProcessLookupError):
        import os

        os.kill(pid, 0)
