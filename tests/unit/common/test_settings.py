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
