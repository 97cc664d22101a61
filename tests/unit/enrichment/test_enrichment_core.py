"""`enrich()` as a whole: the contract, the worker's compute step and the benchmark's plumbing."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import EnrichedArticle, RawArticle
from schemas.enriched import TEXT_SEPARATOR
from services.bench import enrichment as bench
from services.enrichment.core import enrich
from services.enrichment.worker import compute
from tests.unit.enrichment.conftest import SEED


def test_text_is_title_and_body_and_survives_json() -> None:
    raw = RawArticle(title="<b>Strike</b> on Kyiv", body="<p>Missiles hit Kyiv &amp; Lviv.</p>")
    out = enrich(raw)
    assert out.title == "Strike on Kyiv" and out.body == "Missiles hit Kyiv & Lviv."
    assert out.text == out.title + TEXT_SEPARATOR + out.body
    again = EnrichedArticle.model_validate_json(out.model_dump_json())
    assert again == out and "text" not in out.model_dump()
    assert out.id == raw.id and out.times.enriched is not None


def test_declared_language_is_kept_but_detection_wins_when_confident() -> None:
    out = enrich(
        RawArticle(
            title="Kyiv", body="Missiles hit the capital overnight, officials said.", language="de"
        )
    )
    assert out.language == "en" and out.language_declared == "de"


def test_worker_compute_decodes_and_enriches() -> None:
    raw = RawArticle(
        title="Drone attack", body="Russian drones hit Kharkiv; two people were killed."
    )
    (out,) = compute(raw.model_dump_json().encode())
    assert out.id == raw.id and "UA" in out.countries and out.casualties[0].count == 2


_words = st.sampled_from(
    [
        "Kyiv",
        "Moscow",
        "Nice",
        "of",
        "Of",
        "the",
        "killed",
        "12",
        "miles",
        "Tuesday",
        "NATO",
        "Biden",
        "Georgia",
        "<b>",
        "</b>",
        "&amp;",
        ".",
        ",",
        "\n",
        "Zelenskyy's",
        "U.S.",
        "five",
        "out",
    ]
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_words, min_size=1, max_size=60), st.lists(_words, min_size=1, max_size=6))
def test_every_offset_is_inside_text(body: list[str], title: list[str]) -> None:
    t, b = " ".join(title).strip() or "x", " ".join(body).strip() or "y"
    out = enrich(RawArticle(title=t, body=b))
    n = len(out.text)
    for e in out.entities:
        assert all(0 <= s.start < s.end <= n for s in e.spans)
    for x in [*out.sentences, *out.quantities, *out.casualties, *out.time_mentions]:
        assert 0 <= x.start < x.end <= n
    for q in [*out.quantities, *out.casualties, *out.time_mentions]:
        assert out.text[q.start : q.end] == q.text


def test_bench_measures_articles() -> None:
    articles = bench.file_articles([SEED])
    r = bench.measure(articles, repeat=2)
    assert r["articles"] == 1 and r["runs"] == 2
    assert 0 < r["median_ms"] <= r["p99_ms"] <= r["max_ms"]
    assert r["cpu_median_ms"] <= r["cpu_p99_ms"]


def test_reuters_reader_keeps_stories_with_a_body(tmp_path: Path) -> None:
    (tmp_path / "reut2-000.xml").write_text(
        '<?xml version="1.0"?><LEWIS><REUTERS NEWID="1"><DATE>26-FEB-1987 15:01:01.79</DATE>'
        "<TEXT><TITLE>BAHIA COCOA REVIEW</TITLE><BODY>Showers continued in Bahia &amp; Salvador."
        '</BODY></TEXT></REUTERS><REUTERS NEWID="2"><TEXT><TITLE>NO BODY</TITLE></TEXT></REUTERS>'
        "</LEWIS>",
        encoding="utf-8",
    )
    (story,) = bench.reuters_articles(tmp_path)
    assert story.title == "BAHIA COCOA REVIEW" and "&" in story.body and "&amp;" not in story.body
    assert story.times.published is not None and story.times.published.year == 1987


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(min_size=1, max_size=300), st.text(min_size=1, max_size=80))
def test_any_text_enriches_without_error(body: str, title: str) -> None:
    try:
        raw = RawArticle(title=title, body=body)
    except ValueError:
        return  # not an article (the raw model refused it)
    out = enrich(raw)
    assert out.word_count >= 0 and 0.0 <= out.language_confidence <= 1.0
    assert out.text == out.title + TEXT_SEPARATOR + out.body
