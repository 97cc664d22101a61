"""Every shipped Redis has a password, Grafana has no anonymous access, compose publishes on loopback,
ingest and the dashboard require a token, and a missing, empty or `change-me` secret stops the render."""

from __future__ import annotations

import base64
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from services.cli import main as cli
from services.ops import deploy
from tests.unit.deploy.test_compose import COMPOSE, SECRETS, compose_config
from tests.unit.deploy.test_k8s import PROD_REDIS_URL, k8s_root, of_kind, rendered


def compose_services(**env: str) -> dict[str, Any]:
    proc = compose_config("--profile", "dashboard", "--profile", "monitoring", env=SECRETS | env)
    assert proc.returncode == 0, proc.stderr
    services: dict[str, Any] = yaml.safe_load(proc.stdout)["services"]
    return services


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_refuses_to_render_without_each_secret(missing: str) -> None:
    env = {k: v for k, v in SECRETS.items() if k != missing}
    proc = compose_config("--profile", "dashboard", "--profile", "monitoring", env=env)
    assert proc.returncode != 0
    assert f"set {missing}" in proc.stderr
    empty = compose_config(
        "--profile", "dashboard", "--profile", "monitoring", env=env | {missing: ""}
    )
    assert empty.returncode != 0 and f"set {missing}" in empty.stderr


def test_compose_redis_requires_the_password_every_client_carries() -> None:
    services = compose_services()
    redis = services["redis"]
    assert "--requirepass" in " ".join(redis["command"])
    assert redis["environment"]["REDIS_PASSWORD"] == SECRETS["REDIS_PASSWORD"]
    assert redis["environment"]["REDISCLI_AUTH"] == SECRETS["REDIS_PASSWORD"]  # the health check
    clients = [s for s in services.values() if "REDIS_URL" in s.get("environment", {})]
    assert {"ingest", "enrichment", "tagging", "alerts", "trends", "dashboard"} <= {
        n for n, s in services.items() if s in clients
    }
    for svc in clients:
        assert (
            svc["environment"]["REDIS_URL"] == f"redis://:{SECRETS['REDIS_PASSWORD']}@redis:6379/0"
        )


def test_compose_publishes_only_on_loopback_unless_told_and_the_api_needs_a_token() -> None:
    services = compose_services()
    published = {n: s["ports"] for n, s in services.items() if s.get("ports")}
    assert set(published) == {"ingest", "dashboard", "prometheus", "grafana"}
    for name, ports in published.items():
        for port in ports:
            assert str(port).startswith("127.0.0.1:"), (name, port)
    for name in ("ingest", "dashboard"):
        assert services[name]["environment"]["NEWSWIRE_API_TOKEN"] == SECRETS["NEWSWIRE_API_TOKEN"]
    opened = compose_services(NEWSWIRE_PUBLISH_HOST="0.0.0.0")
    assert opened["ingest"]["ports"] == ["0.0.0.0:8080:8080/tcp"]
    assert opened["grafana"]["ports"] == ["127.0.0.1:3000:3000/tcp"]  # never opened by the switch


def test_grafana_has_no_anonymous_access_and_its_admin_password_from_the_secrets() -> None:
    env = compose_services()["grafana"]["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert env["GF_SECURITY_ADMIN_PASSWORD"] == SECRETS["GRAFANA_ADMIN_PASSWORD"]
    assert "GF_AUTH_ANONYMOUS_ORG_ROLE" not in env
    raw = yaml.safe_load(COMPOSE.read_text())["services"]["grafana"]["environment"]
    assert raw["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")


def test_the_k8s_render_fails_without_the_secrets_file(tmp_path: Path) -> None:
    copy = tmp_path / "k8s"
    shutil.copytree(k8s_root() / "deploy" / "k8s", copy)
    (copy / "overlays" / "dev" / "secrets.env").unlink()
    with pytest.raises(RuntimeError, match=r"secrets\.env"):
        deploy.kustomize(copy / "overlays" / "dev")


def test_dev_redis_requires_the_secret_password_and_the_clients_url_carries_it() -> None:
    docs = rendered("dev")
    (secret,) = of_kind(docs, "Secret").values()
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    password = data["REDIS_PASSWORD"]
    assert len(password) >= 32
    assert data["REDIS_URL"] == f"redis://:{password}@newswire-redis:6379/0"
    (redis,) = of_kind(docs, "Deployment")["newswire-redis"]["spec"]["template"]["spec"][
        "containers"
    ]
    assert '--requirepass "$REDIS_PASSWORD"' in " ".join(redis["command"])
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in redis["env"]}
    for var in ("REDIS_PASSWORD", "REDISCLI_AUTH"):
        assert refs[var] == {"name": secret["metadata"]["name"], "key": "REDIS_PASSWORD"}
    prod = of_kind(rendered("prod"), "Secret")
    (prod_secret,) = (s for n, s in prod.items() if n.startswith("newswire-secrets-"))
    assert base64.b64decode(prod_secret["data"]["REDIS_URL"]).decode() == PROD_REDIS_URL


@pytest.mark.parametrize("value", ["", "change-me", "CHANGE-ME", "changeme"])
def test_check_refuses_placeholders_with_a_clear_message(tmp_path: Path, value: str) -> None:
    (tmp_path / ".env").write_text(
        f"REDIS_PASSWORD={value}\nNEWSWIRE_API_TOKEN=x\nGRAFANA_ADMIN_PASSWORD=y\n"
    )
    problems = deploy.check("compose", tmp_path)
    assert problems == [
        f"{tmp_path / '.env'}: REDIS_PASSWORD is empty or the placeholder {value!r}"
    ]
    assert deploy.check("compose", tmp_path / "nowhere")[0].endswith(
        "is missing: run `newswire deploy secrets compose`"
    )


def test_check_refuses_a_prod_overlay_without_the_operators_redis_url(tmp_path: Path) -> None:
    overlay = tmp_path / "deploy" / "k8s" / "overlays" / "prod"
    overlay.mkdir(parents=True)
    deploy.write_secrets("prod", tmp_path)
    assert deploy.check("prod", tmp_path) == [f"{overlay / 'secrets.env'}: REDIS_URL is not set"]


def test_secrets_are_generated_private_kept_and_never_printed(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("REDIS_PASSWORD=change-me\nNEWSWIRE_API_TOKEN=kept-token\n")
    _, made = deploy.write_secrets("compose", tmp_path)
    assert made == ["REDIS_PASSWORD", "GRAFANA_ADMIN_PASSWORD"]
    values = deploy.parse_env(path.read_text())
    assert values["NEWSWIRE_API_TOKEN"] == "kept-token"
    assert len(values["REDIS_PASSWORD"]) >= 32 and values["REDIS_PASSWORD"] != "change-me"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert deploy.check("compose", tmp_path) == []
    again = deploy.write_secrets("compose", tmp_path)[1]
    assert again == [] and deploy.parse_env(path.read_text()) == values


def test_the_cli_names_the_file_and_keys_but_not_the_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = deploy.write_secrets
    monkeypatch.setattr(deploy, "write_secrets", lambda target: real(target, tmp_path))
    monkeypatch.setattr(deploy, "check", lambda target: [])
    result = CliRunner().invoke(cli, ["deploy", "secrets", "compose"])
    assert result.exit_code == 0, result.output
    assert "generated REDIS_PASSWORD, NEWSWIRE_API_TOKEN, GRAFANA_ADMIN_PASSWORD" in result.output
    for value in deploy.parse_env((tmp_path / ".env").read_text()).values():
        assert value not in result.output
