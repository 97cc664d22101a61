"""Dead letters: headers carry the facts, replay plans keep key and bytes and count attempts."""

from __future__ import annotations

import base64

from schemas import DeadLetter
from schemas.deadletter import H_ATTEMPTS, H_REPLAYED
from services.common.kafka import (
    attempts_of,
    client_kwargs,
    dead_letter,
    dead_letter_headers,
)
from services.common.redisconn import safe_url
from services.common.settings import Settings
from services.ops.dlq import parse_entry, plan, select


def _dl(stage: str = "tagging", attempts: int = 1, key: bytes | None = b"k1") -> DeadLetter:
    return dead_letter(
        stage=stage,
        topic="nw.articles.enriched.v1",
        partition=2,
        offset=41,
        key=key,
        value=b"\x00not json",
        error=ValueError("broken"),
        timestamp_ms=1_700_000_000_000,
        attempts=attempts,
    )


def test_headers_name_origin_error_and_attempts() -> None:
    h = dict(dead_letter_headers(_dl(attempts=3)))
    assert h["newswire.original.topic"] == b"nw.articles.enriched.v1"
    assert h["newswire.original.partition"] == b"2"
    assert h["newswire.original.offset"] == b"41"
    assert h["newswire.original.timestamp"].startswith(b"2023-11-14T22:13:20")
    assert h["newswire.stage"] == b"tagging"
    assert h["newswire.error.class"] == b"ValueError"
    assert h["newswire.error.message"] == b"broken"
    assert attempts_of(list(h.items())) == 3
    assert attempts_of(None) == 0


def test_replay_plan_restores_key_and_bytes_and_marks_the_record() -> None:
    entries = [
        parse_entry(0, 5, _dl().model_dump_json().encode()),
        parse_entry(0, 6, _dl(stage="alerts", key=None).model_dump_json().encode()),
        parse_entry(1, 0, b"garbage"),
    ]
    assert entries[2].letter is None
    chosen = select(entries, stage="tagging")
    (r,) = plan(chosen, max_attempts=5)
    assert (r.topic, r.key, r.value) == ("nw.articles.enriched.v1", b"k1", b"\x00not json")
    assert dict(r.headers) == {H_REPLAYED: b"0@5", H_ATTEMPTS: b"1"}
    assert [x.key for x in plan(select(entries, refs=["0@6"]), 5)] == [None]


def test_replay_holds_back_letters_that_failed_too_often() -> None:
    chosen = select([parse_entry(0, 0, _dl(attempts=5).model_dump_json().encode())])
    assert plan(chosen, max_attempts=5) == []
    assert len(plan(chosen, max_attempts=5, force=True)) == 1


def test_dead_letter_keeps_base64_bytes() -> None:
    assert base64.b64decode(_dl().value) == b"\x00not json"


def test_kafka_security_settings_reach_the_client() -> None:
    s = Settings(  # type: ignore[call-arg]
        _env_file=None,
        kafka_security_protocol="sasl_plaintext",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="svc",
        kafka_sasl_password="s3cret",
    )
    kw = client_kwargs(s)
    assert kw["security_protocol"] == "SASL_PLAINTEXT"
    assert (kw["sasl_mechanism"], kw["sasl_plain_username"]) == ("SCRAM-SHA-512", "svc")
    assert kw["sasl_plain_password"] == "s3cret"
    assert "s3cret" not in repr(s)  # secrets are SecretStr: never in logs or tracebacks


def test_redis_url_password_is_never_shown() -> None:
    assert safe_url("rediss://newswire:hunter2@r.example:6380/0") == (
        "rediss://newswire:***@r.example:6380/0"
    )
    assert safe_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
