"""Runs the services as child processes and stops them all, whatever way the parent exits."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

SERVICES = ("ingest", "enrichment", "tagging", "alerts")


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
) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    procs: dict[str, subprocess.Popen[bytes]] = {}
    full_env = {**os.environ, **(env or {})}
    try:
        for name in names:
            out = None
            if log_dir is not None:
                log_dir.mkdir(parents=True, exist_ok=True)
                out = (log_dir / f"{name}.log").open("ab")
            procs[name] = subprocess.Popen(
                service_command(name),
                env=full_env,
                stdout=out,
                stderr=subprocess.STDOUT if out else None,
                stdin=subprocess.DEVNULL,
            )
        yield procs
    finally:
        stop_all(procs)
