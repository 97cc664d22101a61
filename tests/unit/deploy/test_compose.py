"""docker-compose.yml and the local stack must run the same Kafka; compose must be valid."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

import pytest
import yaml

from services.common.settings import PROJECT_ROOT
from services.common.topology import SERVICES

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
# What `newswire deploy secrets compose` writes into .env (compose refuses to start without them).
SECRETS = {
    "REDIS_PASSWORD": "redis-pw-for-test",
    "NEWSWIRE_API_TOKEN": "api-token-for-test",
    "GRAFANA_ADMIN_PASSWORD": "grafana-pw-for-test",
}


def compose_config(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`compose config` with only `env` in the environment and no .env file read."""
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no docker compose client on this machine (validated structurally above)")
    with tempfile.NamedTemporaryFile(suffix=".env") as empty:
        return subprocess.run(
            [*cli, "--env-file", empty.name, "-f", str(COMPOSE), *args, "config"],
            capture_output=True,
            text=True,
            env={"PATH": os.environ["PATH"], **(SECRETS if env is None else env)},
        )


def _kafka_version() -> str:
    pom = (PROJECT_ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    m = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert m
    return m.group(1)


def test_compose_uses_the_same_kafka_version_as_the_local_stack() -> None:
    doc = yaml.safe_load(COMPOSE.read_text())
    assert doc["services"]["kafka"]["image"] == f"apache/kafka:{_kafka_version()}"


def test_compose_runs_the_four_services_from_one_dockerfile_with_health_checks() -> None:
    doc = yaml.safe_load(COMPOSE.read_text())
    for name in SERVICES:
        svc = doc["services"][name]
        assert svc["command"] == ["run", name]
        assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
        assert svc["healthcheck"]["test"]
        assert svc["depends_on"]["kafka"]["condition"] == "service_healthy"
    for infra in ("kafka", "redis"):
        assert doc["services"][infra]["healthcheck"]["test"]


def _compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_config_validates() -> None:
    proc = compose_config()
    assert proc.returncode == 0, proc.stderr


def test_worker_health_checks_hit_readiness_on_the_port_the_worker_binds() -> None:
    from services.common.topology import METRICS_PORTS as DEFAULT_PORTS

    doc = yaml.safe_load(COMPOSE.read_text())
    for name in SERVICES:
        svc = doc["services"][name]
        port = DEFAULT_PORTS.get(name, 8080)
        assert f"127.0.0.1:{port}/readyz" in " ".join(svc["healthcheck"]["test"]), name
        if name in DEFAULT_PORTS:
            assert int(svc["environment"]["NEWSWIRE_METRICS_PORT"]) == port
        assert svc["depends_on"]["topics"]["condition"] == "service_completed_successfully"
        assert svc["depends_on"]["redis"]["condition"] == "service_healthy"
    assert doc["services"]["topics"]["command"] == ["topics", "create"]


def test_dashboard_and_monitoring_are_behind_profiles() -> None:
    doc = yaml.safe_load(COMPOSE.read_text())
    services = doc["services"]
    assert services["dashboard"]["profiles"] == ["dashboard"]
    assert services["dashboard"]["command"] == ["run", "dashboard"]
    assert services["prometheus"]["profiles"] == services["grafana"]["profiles"] == ["monitoring"]
    for name, svc in services.items():
        if "profiles" not in svc:
            assert name in {*SERVICES, "kafka", "redis", "topics"}, name


def test_prometheus_scrapes_every_service_where_it_serves_metrics() -> None:
    from services.common.topology import METRICS_PORTS as DEFAULT_PORTS

    config = yaml.safe_load((PROJECT_ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = {
        t for sc in config["scrape_configs"] for g in sc["static_configs"] for t in g["targets"]
    }
    assert targets == {f"{s}:{DEFAULT_PORTS.get(s, 8080)}" for s in SERVICES}


def test_docker_compose_config_validates_with_every_profile() -> None:
    proc = compose_config("--profile", "dashboard", "--profile", "monitoring")
    assert proc.returncode == 0, proc.stderr
    services = yaml.safe_load(proc.stdout)["services"]
    assert {"dashboard", "prometheus", "grafana", *SERVICES} <= set(services)
