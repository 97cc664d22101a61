"""Webhook signing: receivers can verify; tampered bodies, wrong secrets and old timestamps fail."""

from __future__ import annotations

from services.delivery.webhooks import retry_delays, sign, verify


def test_signature_round_trip_and_tampering() -> None:
    body = b'{"id":"a1"}'
    sig = sign("s3cret", 1_700_000_000, body)
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    assert verify("s3cret", "1700000000", body, sig, now=1_700_000_010)
    assert not verify("s3cret", "1700000000", body + b" ", sig, now=1_700_000_010)
    assert not verify("other", "1700000000", body, sig, now=1_700_000_010)
    assert not verify("s3cret", "1700000000", body, sig, now=1_700_009_999)  # too old
    assert not verify("s3cret", "nan", body, sig, now=1_700_000_010)


def test_retry_delays_are_exponential_and_capped() -> None:
    assert retry_delays(5, 0.5, 3.0) == [0.5, 1.0, 2.0, 3.0]
    assert retry_delays(1, 0.5, 3.0) == []
