"""The Kubernetes overlays render, validate against the Kubernetes schemas, and hang together.

Overlays are rendered with `kubectl kustomize` (kustomize v5 is built into kubectl). Core kinds are
checked by kubernetes-validate (strict: unknown fields fail). The CRDs (KEDA, Strimzi) have no schema
offline, so their structure and their references to our names are checked here.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from services.common.kafka_admin import topic_specs
from services.common.settings import Settings
from services.common.topics import Topics
from services.common.topology import METRICS_PORTS as DEFAULT_PORTS
from services.common.topology import SERVICES, WORKERS, group_id, inputs
from services.ops import deploy

K8S_VERSION = "1.33.0"
OVERLAYS = ["dev", "prod"]
CRDS = {
    "ScaledObject",
    "TriggerAuthentication",
    "Kafka",
    "KafkaNodePool",
    "KafkaTopic",
    "KafkaUser",
}


PROD_REDIS_URL = "rediss://:given-by-the-operator@redis.example:6380/0"


@cache
def k8s_root() -> Path:
    """A copy of the repository's deploy/k8s with secrets written the way an operator does it
    (`newswire deploy secrets OVERLAY`), so no real secrets file is read or written."""
    root = Path(tempfile.mkdtemp(prefix="newswire-k8s-"))
    shutil.copytree(
        deploy.K8S, root / "deploy" / "k8s", ignore=shutil.ignore_patterns("secrets.env")
    )
    (root / "deploy" / "k8s" / "overlays" / "prod" / "secrets.env").write_text(
        f"REDIS_URL={PROD_REDIS_URL}\n"
    )
    for overlay in OVERLAYS:
        deploy.write_secrets(overlay, root)
    return root


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    return tuple(deploy.kustomize(k8s_root() / "deploy" / "k8s" / "overlays" / overlay))


def of_kind(docs: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def containers(docs: tuple[dict[str, Any], ...]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, dep in of_kind(docs, "Deployment").items():
        if name.removeprefix("newswire-") in SERVICES:
            for c in dep["spec"]["template"]["spec"]["containers"]:
                yield name, c


def env_of(docs: tuple[dict[str, Any], ...]) -> dict[str, str]:
    return dict(of_kind(docs, "ConfigMap")["newswire-env"]["data"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_core_kinds_validate_against_kubernetes_schemas(overlay: str) -> None:
    docs = rendered(overlay)
    checked = 0
    for doc in docs:
        if doc["kind"] in CRDS:
            continue
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        checked += 1
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "ConfigMap", "Secret", "PodDisruptionBudget", "Namespace"} <= kinds
    assert checked >= 12


def test_a_broken_manifest_is_rejected_by_the_validator() -> None:
    """The validator really checks: a typo in a probe field fails."""
    dep = of_kind(rendered("dev"), "Deployment")["newswire-ingest"]
    broken = yaml.safe_load(yaml.safe_dump(dep))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_has_probes_resources_and_runs_unprivileged(overlay: str) -> None:
    docs = rendered(overlay)
    seen = set()
    for name, c in containers(docs):
        seen.add(name)
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        for probe, path in (("livenessProbe", "/livez"), ("readinessProbe", "/readyz")):
            assert c[probe]["httpGet"]["path"] == path, (name, probe)
            assert c[probe]["httpGet"]["port"] in ports, (name, probe)
        for key in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][key]), (name, key)
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        service = name.removeprefix("newswire-")
        assert c["args"] == ["run", service]
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        if service in WORKERS:  # the port the process binds is the port the probes hit
            assert int(env["NEWSWIRE_METRICS_PORT"]) == ports["metrics"] == DEFAULT_PORTS[service]
    assert seen == {f"newswire-{s}" for s in SERVICES}
    for dep in of_kind(docs, "Deployment").values():
        assert dep["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_referenced_configmaps_secrets_and_files_exist(overlay: str) -> None:
    docs = rendered(overlay)
    configmaps, secrets = of_kind(docs, "ConfigMap"), of_kind(docs, "Secret")
    env = env_of(docs)
    for name, dep in of_kind(docs, "Deployment").items():
        spec = dep["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for c in spec["containers"]:
            for ref in c.get("envFrom", []):
                if "configMapRef" in ref:
                    assert ref["configMapRef"]["name"] in configmaps, name
                if "secretRef" in ref:
                    assert ref["secretRef"]["name"] in secrets, name
            mounted = {
                m["mountPath"]: volumes[m["name"]]["configMap"]["name"]
                for m in c.get("volumeMounts", [])
                if "configMap" in volumes[m["name"]]
            }
            for cm in mounted.values():
                assert cm in configmaps, (name, cm)
            # A file setting that points into a mounted ConfigMap names a key it has.
            for setting in ("NEWSWIRE_RULES_FILE", "NEWSWIRE_TAXONOMY_FILE"):
                folder, _, filename = env[setting].rpartition("/")
                if folder in mounted:
                    assert filename in configmaps[mounted[folder]]["data"], (name, setting)
    alerts = of_kind(docs, "Deployment")["newswire-alerts"]["spec"]["template"]["spec"]
    assert any(v.get("configMap", {}).get("name") == "newswire-rules" for v in alerts["volumes"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workers_scale_on_their_consumer_group_lag_bounded_by_partitions(overlay: str) -> None:
    docs = rendered(overlay)
    env = env_of(docs)
    partitions = int(env["NEWSWIRE_PARTITIONS"])
    topics = Topics.from_settings(Settings.model_construct())
    deployments = of_kind(docs, "Deployment")
    scaled = of_kind(docs, "ScaledObject")
    assert set(scaled) == {f"newswire-{w}" for w in WORKERS}
    for name, so in scaled.items():
        stage = name.removeprefix("newswire-")
        assert so["apiVersion"] == "keda.sh/v1alpha1"
        assert so["spec"]["scaleTargetRef"]["name"] in deployments
        assert 1 <= so["spec"]["minReplicaCount"] <= so["spec"]["maxReplicaCount"] <= partitions
        triggers = so["spec"]["triggers"]
        assert [t["metadata"]["topic"] for t in triggers] == [
            getattr(topics, attr) for attr in inputs(stage)
        ]
        for trigger in triggers:
            meta = trigger["metadata"]
            assert trigger["type"] == "kafka"
            assert meta["consumerGroup"] == group_id(Settings.model_construct(), stage)
            assert meta["bootstrapServers"] == env["KAFKA_BOOTSTRAP_SERVERS"]
            assert meta["allowIdleConsumers"] == "false"
            assert int(meta["lagThreshold"]) > 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_a_disruption_budget(overlay: str) -> None:
    docs = rendered(overlay)
    pdbs = of_kind(docs, "PodDisruptionBudget").values()
    for name, dep in of_kind(docs, "Deployment").items():
        if name.removeprefix("newswire-") not in SERVICES:
            continue
        labels = dep["spec"]["template"]["metadata"]["labels"]
        matching = [
            p
            for p in pdbs
            if p["spec"]["selector"]["matchLabels"].items() <= labels.items()
            and p["metadata"]["namespace"] == dep["metadata"]["namespace"]
        ]
        assert len(matching) == 1, name


def test_prod_runs_strimzi_with_replication_3_and_min_isr_2_instead_of_the_job() -> None:
    docs = rendered("prod")
    assert not of_kind(docs, "Job"), "topics are managed by Strimzi's KafkaTopics in prod"
    (kafka,) = of_kind(docs, "Kafka").values()
    (pool,) = of_kind(docs, "KafkaNodePool").values()
    assert kafka["apiVersion"] == pool["apiVersion"] == "kafka.strimzi.io/v1beta2"
    assert pool["spec"]["replicas"] == 3
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["auto.create.topics.enable"] is False
    env = env_of(docs)
    assert env["KAFKA_BOOTSTRAP_SERVERS"].startswith(f"{kafka['metadata']['name']}-kafka-bootstrap")
    topics = of_kind(docs, "KafkaTopic")
    specs = topic_specs(
        Settings.model_construct(
            partitions=int(env["NEWSWIRE_PARTITIONS"]),
            replication_factor=int(env["NEWSWIRE_REPLICATION_FACTOR"]),
        )
    )
    assert {t["spec"]["topicName"] for t in topics.values()} == {s.name for s in specs}
    for t in topics.values():
        assert t["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert t["metadata"]["namespace"] == kafka["metadata"]["namespace"]
        assert t["spec"]["partitions"] == int(env["NEWSWIRE_PARTITIONS"])


def test_dev_creates_topics_with_the_job() -> None:
    (job,) = of_kind(rendered("dev"), "Job").values()
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["topics", "create"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_image_for_every_service(overlay: str) -> None:
    docs = rendered(overlay)
    images = {c["image"] for _, c in containers(docs)}
    images |= {
        c["image"]
        for j in of_kind(docs, "Job").values()
        for c in j["spec"]["template"]["spec"]["containers"]
    }
    assert len(images) == 1, images


def test_generated_config_and_topics_match_the_repository() -> None:
    assert deploy.CONFIG_FILE.read_text(encoding="utf-8") == deploy.render_config(), (
        "deploy/k8s/base/config.generated.yaml drifted from the data files: run `newswire deploy render`"
    )
    assert deploy.TOPICS_FILE.read_text(encoding="utf-8") == deploy.render_topics(), (
        "deploy/k8s/strimzi/topics.generated.yaml drifted from the topic specs: run `newswire deploy render`"
    )


def test_configmaps_fit_the_kubernetes_size_limit() -> None:
    for doc in yaml.safe_load_all(deploy.render_config()):
        size = sum(len(v.encode()) for v in doc["data"].values())
        assert size < 1024 * 1024, (doc["metadata"]["name"], size)
    rules = next(d for d in yaml.safe_load_all(deploy.render_config()))
    assert {"rules.yaml", "taxonomy.yaml"} <= set(rules["data"])
