"""Default-deny NetworkPolicies with explicit allows: every pod is denied by default, each allow names
its peers and ports, and each process reaches only what it needs (checked by evaluating the rendered
policies the way Kubernetes does)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from services.common.topology import METRICS_PORTS, SERVICES, WORKERS
from services.ops import deploy
from tests.unit.deploy.test_k8s import OVERLAYS, of_kind, rendered

Docs = tuple[dict[str, Any], ...]
KAFKA = {"strimzi.io/cluster": "newswire", "strimzi.io/kind": "Kafka"}
REDIS = {"app.kubernetes.io/name": "newswire-redis"}
DNS = ({"kubernetes.io/metadata.name": "kube-system"}, {"k8s-app": "kube-dns"})
FORBIDDEN = ["169.254.169.254", "10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1", "127.0.0.1"]
FORBIDDEN += ["fd00::1", "fe80::1", "::1"]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expr in selector.get("matchExpressions", []):
        assert expr["operator"] == "In", expr
        if labels.get(expr["key"]) not in expr["values"]:
            return False
    return True


def pods(docs: Docs) -> dict[str, tuple[str, dict[str, str]]]:
    """Every pod template: name -> (namespace, labels)."""
    out = {}
    for kind in ("Deployment", "Job"):
        for name, d in of_kind(docs, kind).items():
            out[name] = (d["metadata"]["namespace"], d["spec"]["template"]["metadata"]["labels"])
    return out


def policies_of(docs: Docs, namespace: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        p["spec"]
        for p in of_kind(docs, "NetworkPolicy").values()
        if p["metadata"]["namespace"] == namespace and selects(p["spec"]["podSelector"], labels)
    ]


def port_ok(rule: dict[str, Any], port: int, protocol: str = "TCP") -> bool:
    ports = rule.get("ports")
    return ports is None or any(
        p["port"] == port and p.get("protocol", "TCP") == protocol for p in ports
    )


def egress_to_pod(
    docs: Docs, name: str, peer_ns: str, peer: dict[str, str], port: int, protocol: str = "TCP"
) -> bool:
    namespace = pods(docs)["newswire-ingest"][0]
    # a process without a Deployment yet (issue 34) is matched by the label it will carry
    labels = pods(docs).get(name, (namespace, {"app.kubernetes.io/name": name}))[1]
    for spec in policies_of(docs, namespace, labels):
        for rule in spec.get("egress", []):
            for to in rule["to"]:
                if "ipBlock" in to:
                    continue
                ns_sel = to.get("namespaceSelector")
                ns_ok = (
                    peer_ns == namespace
                    if ns_sel is None
                    else selects(ns_sel, {"kubernetes.io/metadata.name": peer_ns})
                )
                if (
                    ns_ok
                    and selects(to.get("podSelector", {}), peer)
                    and port_ok(rule, port, protocol)
                ):
                    return True
    return False


def egress_to_ip(docs: Docs, labels: dict[str, str], namespace: str, ip: str, port: int) -> bool:
    addr = ipaddress.ip_address(ip)
    for spec in policies_of(docs, namespace, labels):
        for rule in spec.get("egress", []):
            for to in rule["to"]:
                block = to.get("ipBlock")
                if block is None or addr.version != ipaddress.ip_network(block["cidr"]).version:
                    continue
                inside = addr in ipaddress.ip_network(block["cidr"])
                excepted = any(addr in ipaddress.ip_network(e) for e in block.get("except", []))
                if inside and not excepted and port_ok(rule, port):
                    return True
    return False


def ingress_from(
    docs: Docs,
    labels: dict[str, str],
    namespace: str,
    peer_ns: str,
    peer: dict[str, str],
    port: int,
) -> bool:
    for spec in policies_of(docs, namespace, labels):
        for rule in spec.get("ingress", []):
            for frm in rule["from"]:
                ns_sel = frm.get("namespaceSelector")
                ns_ok = (
                    peer_ns == namespace
                    if ns_sel is None
                    else selects(ns_sel, {"kubernetes.io/metadata.name": peer_ns})
                )
                if ns_ok and selects(frm.get("podSelector", {}), peer) and port_ok(rule, port):
                    return True
    return False


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_selected_by_a_default_deny_policy(overlay: str) -> None:
    docs = rendered(overlay)
    found = pods(docs)
    assert {f"newswire-{s}" for s in SERVICES} <= set(found)
    for name, (namespace, labels) in found.items():
        denies = [
            s
            for s in policies_of(docs, namespace, labels)
            if set(s["policyTypes"]) == {"Ingress", "Egress"}
            and not s.get("ingress")
            and not s.get("egress")
        ]
        assert denies, f"{name} is not under a default-deny policy"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_allow_names_its_peers_and_ports(overlay: str) -> None:
    for name, policy in of_kind(rendered(overlay), "NetworkPolicy").items():
        spec = policy["spec"]
        for direction, peers in (("ingress", "from"), ("egress", "to")):
            for rule in spec.get(direction, []):
                assert rule.get(peers), (name, direction, "a rule without peers allows everyone")
                assert rule.get("ports"), (
                    name,
                    direction,
                    "a rule without ports allows every port",
                )
                for peer in rule[peers]:
                    assert (
                        peer.get("podSelector")
                        or peer.get("namespaceSelector")
                        or peer.get("ipBlock")
                    ), (name, peer)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_process_reaches_kafka_redis_and_dns_and_nothing_else(overlay: str) -> None:
    docs = rendered(overlay)
    ns = pods(docs)["newswire-ingest"][0]
    for service in SERVICES:
        name = f"newswire-{service}"
        assert egress_to_pod(docs, name, ns, KAFKA, 9093), name
        assert egress_to_pod(docs, name, ns, REDIS, 6379), name
        assert egress_to_pod(docs, name, "kube-system", DNS[1], 53, "UDP"), name
        assert not egress_to_pod(docs, name, ns, KAFKA, 6379), name  # ports, not just peers
        assert not egress_to_pod(
            docs, name, ns, {"app.kubernetes.io/name": "newswire-ingest"}, 8080
        )
        labels = pods(docs)[name][1]
        for ip in (*FORBIDDEN, "93.184.216.34"):
            assert not egress_to_ip(docs, labels, ns, ip, 443), (name, ip)
    assert egress_to_pod(docs, "newswire-topics", ns, KAFKA, 9092)
    assert not egress_to_pod(docs, "newswire-topics", ns, REDIS, 6379)
    assert not egress_to_pod(docs, "newswire-webhooks", ns, KAFKA, 9092)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_delivery_reaches_the_internet_on_443_and_80_but_no_internal_range(overlay: str) -> None:
    docs = rendered(overlay)
    ns = pods(docs)["newswire-ingest"][0]
    webhooks = {"app.kubernetes.io/name": "newswire-webhooks"}
    for ip in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"):
        assert egress_to_ip(docs, webhooks, ns, ip, 443)
        assert egress_to_ip(docs, webhooks, ns, ip, 80)
        assert not egress_to_ip(docs, webhooks, ns, ip, 25)
    for ip in FORBIDDEN:
        for port in (80, 443):
            assert not egress_to_ip(docs, webhooks, ns, ip, port), ip
    assert egress_to_pod(docs, "newswire-webhooks", ns, REDIS, 6379)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_from_the_ingress_controller_and_prometheus_only(overlay: str) -> None:
    docs = rendered(overlay)
    ns = pods(docs)["newswire-ingest"][0]
    controller = (deploy.INGRESS_NAMESPACE, {"app.kubernetes.io/name": "ingress-nginx"})
    prometheus = (deploy.MONITORING_NAMESPACE, {"app.kubernetes.io/name": "prometheus"})
    ingest = {"app.kubernetes.io/name": "newswire-ingest"}
    dashboard = {"app.kubernetes.io/name": "newswire-dashboard"}
    assert ingress_from(docs, ingest, ns, *controller, 8080)
    assert ingress_from(docs, dashboard, ns, *controller, 8081)
    assert not ingress_from(docs, ingest, ns, "default", {}, 8080)
    assert not ingress_from(
        docs, ingest, ns, ns, {"app.kubernetes.io/name": "newswire-tagging"}, 8080
    )
    for service in SERVICES:
        port = METRICS_PORTS.get(service, 8080)
        labels = {"app.kubernetes.io/name": f"newswire-{service}"}
        assert ingress_from(docs, labels, ns, *prometheus, port), service
        assert not ingress_from(docs, labels, ns, deploy.MONITORING_NAMESPACE, {}, port), service
        if service in WORKERS:
            assert not ingress_from(docs, labels, ns, *controller, port), service
    redis = pods(docs).get("newswire-redis")
    if redis:  # dev runs its own Redis: only the Redis clients reach it
        assert ingress_from(
            docs, REDIS, ns, ns, {"app.kubernetes.io/name": "newswire-alerts"}, 6379
        )
        assert not ingress_from(
            docs, REDIS, ns, ns, {"app.kubernetes.io/name": "newswire-topics"}, 6379
        )


def test_the_policies_match_the_topology() -> None:
    assert deploy.POLICIES_FILE.read_text(encoding="utf-8") == deploy.render_network_policies(), (
        "deploy/k8s/base/networkpolicies.generated.yaml drifted: run `newswire deploy render`"
    )
