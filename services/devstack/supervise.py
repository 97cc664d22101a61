"""Runs the services as child processes and stops them all, whatever way the parent exits."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from services.common.settings import Settings
from services.common.topology import SERVICES


def service_command(name: str) -> list[str]:
    return [sys.executable, "-m", "services.cli", "run", name]


def stop_all(procs: Mapping[str, subprocess.Popen[bytes]], timeout: float = 20.0) -> None:
    for p in procs.values():
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in procs.values():
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def settings_env(s: Settings) -> dict[str, str]:
    """The environment that makes a child process use the same stack and names as `s`."""
    env = {
        "NEWSWIRE_STATE_DIR": str(s.state_dir),
        "NEWSWIRE_KAFKA_PORT": str(s.kafka_port),
        "NEWSWIRE_KAFKA_CONTROLLER_PORT": str(s.kafka_controller_port),
        "NEWSWIRE_REDIS_PORT": str(s.redis_port),
        "NEWSWIRE_TOPIC_PREFIX": s.topic_prefix,
        "NEWSWIRE_REDIS_PREFIX": s.redis_prefix,
        "NEWSWIRE_HTTP_PORT": str(s.http_port),
        "NEWSWIRE_CONFIG": os.devnull,
        "NEWSWIRE_METRICS_PORT": "0",  # several workers, parallel sessions: any free port each
    }
    if s.kafka_bootstrap_servers:
        env["KAFKA_BOOTSTRAP_SERVERS"] = s.kafka_bootstrap_servers
    if s.redis_url:
        env["REDIS_URL"] = s.redis
    return env


class ServiceDied(RuntimeError):
    pass


def check_alive(procs: Mapping[str, subprocess.Popen[bytes]]) -> None:
    dead = {n: p.returncode for n, p in procs.items() if p.poll() is not None}
    if dead:
        raise ServiceDied(
            "service(s) exited: " + ", ".join(f"{n} (code {c})" for n, c in dead.items())
        )


@contextlib.contextmanager
def running_services(
    names: tuple[str, ...] = SERVICES,
    env: Mapping[str, str] | None = None,
    log_dir: Path | None = None,
    command: Callable[[str], list[str]] = service_command,
) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """A name given twice (replicas) is keyed `name`, `name-2`, ... so every process is stopped.
    `command` turns a name into its command line (the bench's relay workers have their own)."""
    procs: dict[str, subprocess.Popen[bytes]] = {}
    full_env = {**os.environ, **(env or {})}
    try:
        for name in names:
            key = name
            for n in range(2, len(names) + 2):
                if key not in procs:
                    break
                key = f"{name}-{n}"
            out = None
            if log_dir is not None:
                log_dir.mkdir(parents=True, exist_ok=True)
                out = (log_dir / f"{key}.log").open("ab")
            procs[key] = subprocess.Popen(
                command(name),
                env=full_env,
                stdout=out,
                stderr=subprocess.STDOUT if out else None,
                stdin=subprocess.DEVNULL,
            )
        yield procs
    finally:
        stop_all(procs)
