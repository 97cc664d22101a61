"""mask_url: the one masking function of every URL in a message."""

from __future__ import annotations

import pytest

from services.common.redact import mask_url, mask_urls
from services.common.redisconn import safe_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rediss://newswire:hunter2@r.example:6380/0", "rediss://newswire:***@r.example:6380/0"),
        ("redis://:hunter2@r.example/0", "redis://***@r.example/0"),
        ("https://ghp_token123@git.example/feed", "https://***@git.example/feed"),
        (
            "https://news.example/rss?api_key=K3Y&lang=en",
            "https://news.example/rss?api_key=***&lang=***",
        ),
        ("https://news.example/rss#access_token=T0K", "https://news.example/rss#***"),
        ("http://[::1]:8080/x?t=1", "http://[::1]:8080/x?t=***"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("https://news.example/a/b", "https://news.example/a/b"),
        ("http://u:p@host:notaport/x", "http://***"),
    ],
)
def test_credentials_in_urls_are_masked(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_safe_url_of_redisconn_is_the_same_function() -> None:
    assert safe_url is mask_url


def test_urls_inside_a_message_are_masked() -> None:
    text = "ClientResponseError: 403, url='https://api.example/feed?key=S3CRET' (after 2 tries)"
    out = mask_urls(text)
    assert "S3CRET" not in out
    assert "https://api.example/feed?key=***" in out and out.endswith("(after 2 tries)")
