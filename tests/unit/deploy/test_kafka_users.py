"""Strimzi: the listeners require SCRAM-SHA-512, one KafkaUser per service with exactly the ACLs the
topology implies, and each service (and KEDA) logs in as its own user."""

from __future__ import annotations

import base64

from services.common.settings import Settings
from services.common.topics import Topics
from services.common.topology import SERVICES, STAGES, WORKERS, group_id
from services.ops import deploy
from tests.unit.deploy.test_k8s import env_of, of_kind, rendered

Acl = tuple[str, str, str]


def expected_acls() -> dict[str, set[Acl]]:
    """Read from the topology: read what it consumes in its group, write what it produces; a
    consumer also writes dead letters. KEDA describes the workers' inputs and groups."""
    s = Settings.model_construct(partitions=12, replication_factor=3)
    t = Topics.from_settings(s)
    out: dict[str, set[Acl]] = {}
    for spec in STAGES:
        acls: set[Acl] = set()
        for attr in spec.consumes:
            acls |= {("topic", getattr(t, attr), "Read"), ("topic", getattr(t, attr), "Describe")}
            acls |= {("group", group_id(s, spec.name), op) for op in ("Read", "Describe")}
            acls |= {("topic", t.deadletter, "Write"), ("topic", t.deadletter, "Describe")}
        for attr in spec.produces:
            acls |= {("topic", getattr(t, attr), "Write"), ("topic", getattr(t, attr), "Describe")}
        out[f"newswire-{spec.name}"] = acls
    out["newswire-keda"] = {
        acl
        for spec in STAGES
        if spec.name in WORKERS
        for acl in (
            ("group", group_id(s, spec.name), "Describe"),
            *(("topic", getattr(t, a), "Describe") for a in spec.consumes),
        )
    }
    return out


def test_each_service_has_a_scram_user_with_the_acls_its_topology_implies() -> None:
    users = of_kind(rendered("prod"), "KafkaUser")
    assert set(users) == {f"newswire-{s}" for s in SERVICES} | {"newswire-keda"}
    got = {}
    for name, user in users.items():
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == "newswire"
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        assert user["spec"]["authorization"]["type"] == "simple"
        got[name] = {
            (a["resource"]["type"], a["resource"]["name"], op)
            for a in user["spec"]["authorization"]["acls"]
            for op in a["operations"]
            if a["resource"]["patternType"] == "literal" and a["host"] == "*"
        }
    assert got == expected_acls()
    tagging = got["newswire-tagging"]
    assert ("topic", "newswire.articles.raw.v1", "Read") not in tagging  # not its input
    assert ("topic", "newswire.alerts.v1", "Write") not in tagging  # not its output


def test_every_listener_requires_authentication_and_the_cluster_authorizes() -> None:
    (kafka,) = of_kind(rendered("prod"), "Kafka").values()
    listeners = kafka["spec"]["kafka"]["listeners"]
    assert listeners
    for listener in listeners:
        assert listener["authentication"]["type"] == "scram-sha-512", listener["name"]
        assert listener["tls"] is True, listener["name"]
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    assert "userOperator" in kafka["spec"]["entityOperator"]


def test_each_service_logs_in_as_its_own_user_over_tls() -> None:
    docs = rendered("prod")
    env = env_of(docs)
    (kafka,) = of_kind(docs, "Kafka").values()
    port = kafka["spec"]["kafka"]["listeners"][0]["port"]
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == f"newswire-kafka-bootstrap:{port}"
    assert env["NEWSWIRE_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert env["NEWSWIRE_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    users = of_kind(docs, "KafkaUser")
    for service in SERVICES:
        dep = of_kind(docs, "Deployment")[f"newswire-{service}"]["spec"]["template"]["spec"]
        (c,) = dep["containers"]
        vars_ = {e["name"]: e for e in c["env"]}
        user = vars_["NEWSWIRE_KAFKA_SASL_USERNAME"]["value"]
        assert user == f"newswire-{service}" and user in users
        ref = vars_["NEWSWIRE_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": user, "key": "password"}  # the Secret Strimzi writes for the user
        volumes = {v["name"]: v for v in dep["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        folder, _, filename = env["NEWSWIRE_KAFKA_SSL_CAFILE"].rpartition("/")
        ca = volumes[mounts[folder]]["secret"]
        assert ca["secretName"] == "newswire-cluster-ca-cert"
        assert {"key": "ca.crt", "path": filename} in ca["items"]


def test_keda_reads_lag_as_its_own_user() -> None:
    docs = rendered("prod")
    (auth,) = of_kind(docs, "TriggerAuthentication").values()
    refs = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
    assert refs["password"]["name"] == "newswire-keda" and refs["password"]["key"] == "password"
    login = of_kind(docs, "Secret")[refs["username"]["name"]]
    values = {k: base64.b64decode(v).decode() for k, v in login["data"].items()}
    assert values["username"] == "newswire-keda"
    assert values[refs["sasl"]["key"]] == "scram_sha512"
    assert values[refs["tls"]["key"]] == "enable"
    env = env_of(docs)
    for so in of_kind(docs, "ScaledObject").values():
        for trigger in so["spec"]["triggers"]:
            assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
            assert trigger["metadata"]["bootstrapServers"] == env["KAFKA_BOOTSTRAP_SERVERS"]


def test_the_users_and_their_wiring_match_the_topology() -> None:
    assert deploy.USERS_FILE.read_text(encoding="utf-8") == deploy.render_users(), (
        "deploy/k8s/strimzi/users.generated.yaml drifted: run `newswire deploy render`"
    )
    assert deploy.KAFKA_AUTH_FILE.read_text(encoding="utf-8") == deploy.render_kafka_auth()
