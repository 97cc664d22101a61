from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from schemas import RawArticle
from schemas.ids import alert_id, article_id, canonical_url


def test_canonical_url_drops_tracking_fragment_and_case() -> None:
    a = canonical_url("HTTPS://WWW.Example.com/news/story/?utm_source=x&b=2&a=1#top")
    assert a == "https://example.com/news/story?a=1&b=2"


def test_article_id_prefers_url_over_content() -> None:
    one = article_id("https://example.com/a?utm_medium=rss", "T", "body one")
    two = article_id("https://example.com/a", "Other", "body two")
    assert one == two
    assert article_id(None, "T", "body one") != article_id(None, "T", "body two")


def test_content_id_ignores_case_and_whitespace() -> None:
    assert article_id(None, "Missile  strike", "Body\ntext") == article_id(
        None, "missile strike", "body text"
    )


def test_raw_article_id_is_derived_not_trusted() -> None:
    art = RawArticle(id="forged", title="T", body="B")  # type: ignore[call-arg]
    assert art.id == article_id(None, "T", "B")


def test_alert_id_depends_on_subject_and_rule() -> None:
    assert alert_id("s1", "r1") == alert_id("s1", "r1")
    assert len({alert_id("s1", "r1"), alert_id("s1", "r2"), alert_id("s2", "r1")}) == 3


@given(st.text(min_size=1), st.text(min_size=1))
def test_content_id_is_deterministic(title: str, body: str) -> None:
    assert article_id(None, title, body) == article_id(None, title, body)
    assert len(article_id(None, title, body)) == 16


@given(
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z]{1,10}\.(com|org)", fullmatch=True),
    st.from_regex(r"(/[a-z0-9]{1,8}){0,3}", fullmatch=True),
)
def test_canonical_url_is_idempotent(scheme: str, host: str, path: str) -> None:
    once = canonical_url(f"{scheme}://{host}{path}")
    assert canonical_url(once) == once
