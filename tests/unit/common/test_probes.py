"""The readiness probe reaches Kafka as the workers do: with the shared TLS and SASL options.

Prod's Strimzi listener requires SCRAM-SHA-512 (deploy/k8s/strimzi); a probe without the login
would keep every pod NotReady.
"""

from __future__ import annotations

from pydantic import SecretStr

from services.common.probes import kafka_probe_kwargs
from services.common.settings import Settings


def test_the_probe_logs_in_like_the_workers() -> None:
    s = Settings(
        _env_file=None,  # type: ignore[call-arg]
        kafka_bootstrap_servers="kafka:9093",
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="newswire-alerts",
        kafka_sasl_password=SecretStr("pw"),
    )
    kw = kafka_probe_kwargs(s)
    assert kw["bootstrap_servers"] == "kafka:9093"
    assert kw["security_protocol"] == "SASL_PLAINTEXT"
    assert kw["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kw["sasl_plain_username"] == "newswire-alerts"
    assert kw["sasl_plain_password"] == "pw"
    assert kw["request_timeout_ms"] == 3000


def test_plaintext_by_default() -> None:
    kw = kafka_probe_kwargs(Settings(_env_file=None))  # type: ignore[call-arg]
    assert kw["security_protocol"] == "PLAINTEXT"
    assert "sasl_mechanism" not in kw
