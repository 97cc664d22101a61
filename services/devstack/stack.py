"""The local stack: Apache Kafka (KRaft, one node) from Maven Central jars and Debian's redis-server.

Only used when KAFKA_BOOTSTRAP_SERVERS / REDIS_URL are unset. State lives under `settings.state_dir`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.common.probes import kafka_ready, redis_ready
from services.common.settings import PROJECT_ROOT, Settings

KAFKA_DEPLOY = PROJECT_ROOT / "deploy" / "kafka"


class StackError(RuntimeError):
    """A clear, user-facing reason the stack could not start."""


@dataclass(frozen=True)
class Component:
    name: str
    port: int
    pidfile: Path
    logfile: Path


def free_port() -> int:
    """A port nothing listens on now, for a private stack next to others."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it if it is ours.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def _read_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _pid_alive(pid) else None


class LocalStack:
    """Starts, checks and stops the local Kafka and Redis; idempotent, never leaves strays on stop."""

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.root = settings.state_dir
        self.kafka = Component(
            "kafka",
            settings.kafka_port,
            self.root / "kafka.pid",
            self.root / "logs" / "kafka.log",
        )
        self.redis = Component(
            "redis",
            settings.redis_port,
            self.root / "redis.pid",
            self.root / "logs" / "redis.log",
        )

    # ---- prerequisites -------------------------------------------------------------------
    def _require(self, tool: str, hint: str) -> str:
        path = shutil.which(tool)
        if path is None:
            raise StackError(f"`{tool}` not found on PATH: {hint}")
        return path

    def ensure_redis_server(self) -> str:
        path = shutil.which("redis-server")
        if path:
            return path
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise StackError("redis-server is missing: install Debian's package `redis-server`.")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "redis-server"],
        ):
            subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        return self._require("redis-server", "apt-get install redis-server did not provide it")

    def kafka_classpath(self) -> str:
        """Ask Maven for the broker classpath once per pom version; Maven caches the jars."""
        pom = KAFKA_DEPLOY / "pom.xml"
        digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:12]
        cp_file = self.root / "kafka" / f"classpath-{digest}.txt"
        if not cp_file.exists():
            mvn = self._require("mvn", "Maven resolves the Kafka jars from Maven Central")
            cp_file.parent.mkdir(parents=True, exist_ok=True)
            proc = subprocess.run(
                [
                    mvn,
                    "-q",
                    "-B",
                    "-f",
                    str(pom),
                    "dependency:build-classpath",
                    f"-Dmdep.outputFile={cp_file}",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0 or not cp_file.exists():
                raise StackError(f"Maven could not resolve Kafka jars:\n{proc.stdout}{proc.stderr}")
        return cp_file.read_text().strip()

    # ---- Kafka ---------------------------------------------------------------------------
    def _kafka_config(self) -> Path:
        data = self.root / "kafka" / "data"
        data.mkdir(parents=True, exist_ok=True)
        template = (KAFKA_DEPLOY / "server.properties").read_text()
        text = (
            template.replace("{kafka_port}", str(self.s.kafka_port))
            .replace("{controller_port}", str(self.s.kafka_controller_port))
            .replace("{data_dir}", str(data))
        )
        path = self.root / "kafka" / "server.properties"
        path.write_text(text)
        return path

    def _java(self, cp: str) -> list[str]:
        java = self._require("java", "Kafka needs Java 17 or newer")
        return [
            java,
            "-Xms256m",
            "-Xmx768m",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={KAFKA_DEPLOY / 'log4j2.yaml'}",
            f"-Dkafka.logs.dir={self.root / 'logs'}",
            "-cp",
            cp,
        ]

    def _format_storage(self, cp: str, config: Path) -> None:
        data = self.root / "kafka" / "data"
        if (data / "meta.properties").exists():
            return
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        proc = subprocess.run(
            [
                *self._java(cp),
                "kafka.tools.StorageTool",
                "format",
                f"--cluster-id={cluster_id}",  # an id may start with "-"
                "-c",
                str(config),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise StackError(f"Kafka storage format failed:\n{proc.stdout}{proc.stderr}")

    def _spawn(self, comp: Component, cmd: list[str]) -> None:
        comp.logfile.parent.mkdir(parents=True, exist_ok=True)
        with comp.logfile.open("ab") as log:
            proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        comp.pidfile.write_text(str(proc.pid))

    def _check_port(self, comp: Component, setting: str) -> None:
        if _port_taken(comp.port):
            raise StackError(
                f"port {comp.port} is already in use, so {comp.name} cannot start: stop what "
                f"listens there or set {setting} to a free port"
            )

    def start_kafka(self) -> bool:
        if _read_pid(self.kafka.pidfile):
            return False
        self._check_port(self.kafka, "NEWSWIRE_KAFKA_PORT")
        ctl = Component("kafka controller", self.s.kafka_controller_port, Path(), Path())
        self._check_port(ctl, "NEWSWIRE_KAFKA_CONTROLLER_PORT")
        cp = self.kafka_classpath()
        config = self._kafka_config()
        self._format_storage(cp, config)
        self._spawn(self.kafka, [*self._java(cp), "kafka.Kafka", str(config)])
        return True

    def start_redis(self) -> bool:
        if _read_pid(self.redis.pidfile):
            return False
        server = self.ensure_redis_server()
        self._check_port(self.redis, "NEWSWIRE_REDIS_PORT")
        data = self.root / "redis"
        data.mkdir(parents=True, exist_ok=True)
        self._spawn(
            self.redis,
            [
                server,
                "--port",
                str(self.s.redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(data),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--daemonize",
                "no",
            ],
        )
        return True

    # ---- lifecycle -----------------------------------------------------------------------
    def up(self, timeout: float = 120.0) -> list[str]:
        """Start what is not running and wait until both answer; returns the names started."""
        self.root.mkdir(parents=True, exist_ok=True)
        started = []
        try:
            if self.start_redis():
                started.append("redis")
            if self.start_kafka():
                started.append("kafka")
            asyncio.run(wait_ready(self.s, timeout))
        except BaseException:
            for name in started:
                self._stop(self.kafka if name == "kafka" else self.redis)
            raise
        return started

    def _stop(self, comp: Component, timeout: float = 30.0) -> bool:
        pid = _read_pid(comp.pidfile)
        if pid is None:
            comp.pidfile.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while _pid_alive(pid):
                time.sleep(0.1)
        comp.pidfile.unlink(missing_ok=True)
        return True

    def down(self) -> list[str]:
        stopped = []
        for comp in (self.kafka, self.redis):
            if self._stop(comp):
                stopped.append(comp.name)
        return stopped

    def status(self) -> dict[str, str]:
        out = {}
        for comp in (self.kafka, self.redis):
            pid = _read_pid(comp.pidfile)
            if pid:
                out[comp.name] = f"running (pid {pid}, port {comp.port})"
            else:
                out[comp.name] = "stopped"
        return out


@contextlib.contextmanager
def private_stack(base: Settings, state: Path, **names: Any) -> Iterator[Settings]:
    """External services as they are; else Kafka and Redis of its own on free ports with state in
    `state`, stopped and removed afterwards whatever happened. `names` (prefixes, ports) apply to both."""
    if base.external:
        yield base.model_copy(update=names)
        return
    s = base.model_copy(
        update={
            **names,
            "state_dir": state,
            "kafka_port": free_port(),
            "kafka_controller_port": free_port(),
            "redis_port": free_port(),
        }
    )
    local = LocalStack(s)
    try:
        local.up()
        yield s
    finally:
        local.down()
        shutil.rmtree(state, ignore_errors=True)


async def wait_ready(settings: Settings, wait_s: float = 120.0) -> None:
    """Until Kafka answers a metadata request and Redis answers PING, or a clear wait_s."""
    deadline = time.monotonic() + wait_s
    pending = {"kafka": settings.bootstrap, "redis": settings.redis_shown}
    while pending:
        if "redis" in pending and await redis_ready(settings):
            pending.pop("redis")
        if "kafka" in pending and await kafka_ready(settings):
            pending.pop("kafka")
        if not pending:
            return
        if time.monotonic() > deadline:
            where = ", ".join(f"{k} at {v}" for k, v in pending.items())
            raise StackError(
                f"not ready after {wait_s:.0f}s: {where} (logs: {settings.state_dir / 'logs'})"
            )
        await asyncio.sleep(0.5)
