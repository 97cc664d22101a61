from __future__ import annotations

from pathlib import Path

import pytest

from services.common.settings import Settings
from services.common.topics import RedisKeys, Topics


def test_defaults_point_at_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("NEWSWIRE_CONFIG", "/nonexistent.toml")
    s = Settings()
    assert s.bootstrap == "127.0.0.1:9092"
    assert s.redis == "redis://127.0.0.1:6379/0"
    assert not s.external


def test_external_services_from_plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("REDIS_URL", "redis://r:6379/1")
    s = Settings()
    assert s.external
    assert s.bootstrap == "k1:9092,k2:9092"


def test_config_file_then_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "newswire.toml"
    cfg.write_text('partitions = 6\ntopic_prefix = "fromfile"\n')
    monkeypatch.setenv("NEWSWIRE_CONFIG", str(cfg))
    monkeypatch.setenv("NEWSWIRE_PARTITIONS", "12")
    s = Settings()
    assert s.topic_prefix == "fromfile"
    assert s.partitions == 12


def test_topic_and_channel_names_are_versioned_and_prefixed() -> None:
    t = Topics.from_settings(Settings(topic_prefix="nw"))
    assert t.raw == "nw.articles.raw.v1"
    assert t.deadletter == "nw.deadletter.v1"
    k = RedisKeys("nw")
    assert k.severity("high").startswith(k.all_alerts + ":")
    assert k.country("UA") == "nw:alerts:country:UA"


def test_no_secret_is_shown_by_repr_str_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """redis_url and webhook_secret were plain strings: repr(Settings) showed the Redis password."""
    monkeypatch.setenv("NEWSWIRE_CONFIG", "/nonexistent.toml")
    monkeypatch.setenv("REDIS_URL", "rediss://app:redis-pw-1@r.example:6380/0")
    monkeypatch.setenv(
        "NEWSWIRE_API_CLIENTS",
        '[{"name": "wire-a", "token": "client-token-0123456789", "sources": ["Wire A"]}]',
    )
    s = Settings(
        webhook_secret="hook-key-2",  # type: ignore[arg-type]
        api_token="api-token-3",  # type: ignore[arg-type]
        kafka_sasl_password="sasl-pw-4",  # type: ignore[arg-type]
        smtp_password="smtp-pw-5",  # type: ignore[arg-type]
        telegram_bot_token="bot-token-6",  # type: ignore[arg-type]
    )
    shown = repr(s) + str(s) + s.model_dump_json() + repr(s.api_clients)
    for secret in ("redis-pw-1", "hook-key-2", "api-token-3", "sasl-pw-4", "smtp-pw-5"):
        assert secret not in shown
    assert "bot-token-6" not in shown and "client-token-0123456789" not in shown
    # Clients still get the usable URL; messages the masked one.
    assert s.redis == "rediss://app:redis-pw-1@r.example:6380/0"
    assert s.redis_shown == "rediss://app:***@r.example:6380/0"
    assert s.api_clients[0].token.get_secret_value() == "client-token-0123456789"


def test_api_clients_need_distinct_names_and_long_tokens() -> None:
    one = {"name": "a", "token": "t" * 16}
    with pytest.raises(ValueError, match="its own name"):
        Settings(api_clients=[one, {**one, "token": "u" * 16}])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="at least 16"):
        Settings(api_clients=[{"name": "a", "token": "short"}])  # type: ignore[list-item]
