"""`newswire up` runs the stack and the four services; Ctrl-C (SIGINT) stops every one of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from services.common.settings import PROJECT_ROOT
from tests.conftest import free_port

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(x) for x in out.stdout.split()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def test_ctrl_c_stops_stack_and_services(tmp_path: Path) -> None:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.skip("uses the local stack")
    http_port = free_port()
    env = {
        **os.environ,
        "NEWSWIRE_STATE_DIR": str(tmp_path / "state"),
        "NEWSWIRE_KAFKA_PORT": str(free_port()),
        "NEWSWIRE_KAFKA_CONTROLLER_PORT": str(free_port()),
        "NEWSWIRE_REDIS_PORT": str(free_port()),
        "NEWSWIRE_HTTP_PORT": str(http_port),
        "NEWSWIRE_CONFIG": os.devnull,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "up"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/health", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "ingest never became healthy"
                time.sleep(0.5)
        pids = _children(proc.pid) | {
            int((tmp_path / "state" / f"{n}.pid").read_text()) for n in ("kafka", "redis")
        }
        assert len(pids) >= 6  # four services, Kafka, Redis
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=90) == 0
        stragglers = {p for p in pids if _alive(p)}
        assert not stragglers, f"left running: {stragglers}"
    finally:
        if proc.poll() is None:
            proc.kill()
