"""Archive reading: formats, gzip, CSV and XML mappings, pacing arithmetic, progress and summary."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ingest.archive import (
    ArchiveReport,
    Mapping,
    Progress,
    format_progress,
    gap_s,
    items_of_archive_file,
    load_mapping,
    parse_columns,
    read_archive,
)
from services.ingest.parse import Item
from tests.conftest import SHARED

REUTERS = """<?xml version="1.0"?>
<LEWIS>
<REUTERS NEWID="1"><DATE>26-FEB-1987 15:01:01.79</DATE>
<TEXT><TITLE>BAHIA COCOA REVIEW</TITLE><DATELINE>SALVADOR, Feb 26 - </DATELINE><BODY>Showers continued.</BODY></TEXT>
</REUTERS>
<REUTERS NEWID="2"><DATE>26-FEB-1987 15:02:20.00</DATE>
<TEXT TYPE="BRIEF"><TITLE>SHORT ONE</TITLE></TEXT></REUTERS>
<REUTERS NEWID="3"><DATE>not a date</DATE><TEXT><TITLE>BAD DATE</TITLE><BODY>x</BODY></TEXT></REUTERS>
</LEWIS>
"""


def test_reuters_xml_mapping(tmp_path: Path) -> None:
    f = tmp_path / "reut2-000.xml"
    f.write_text(REUTERS)
    items = list(items_of_archive_file(f))
    a, b, bad = items
    assert a.article and a.article.title == "BAHIA COCOA REVIEW"
    assert a.article.body == "Showers continued."
    assert a.article.times.published == datetime(1987, 2, 26, 15, 1, 1, 790000, tzinfo=UTC)
    assert a.article.source == "reuters21578"
    assert b.article and b.article.body == "SHORT ONE"  # brief: body falls back to the title
    assert bad.article is None and bad.error and "published_at" in bad.error and bad.line == 3


def test_original_sgml_without_root_and_control_refs(tmp_path: Path) -> None:
    f = tmp_path / "reut2-000.sgm"
    f.write_text(
        '<!DOCTYPE lewis SYSTEM "lewis.dtd">\n'
        + REUTERS.split("<LEWIS>")[1].split("</LEWIS>")[0].replace("Showers", "&#3;Showers")
    )
    items = list(items_of_archive_file(f))
    assert items[0].article and items[0].article.title == "BAHIA COCOA REVIEW"


def test_gzip_jsonl_and_csv_mapping(tmp_path: Path) -> None:
    rows = [{"title": f"T{i}", "body": f"Body {i}."} for i in range(3)]
    gz = tmp_path / "a.jsonl.gz"
    gz.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in rows).encode()))
    assert [i.article.title for i in items_of_archive_file(gz) if i.article] == ["T0", "T1", "T2"]

    csv_file = tmp_path / "b.csv.gz"
    csv_file.write_bytes(
        gzip.compress(b'"3","Headline, with comma","The description."\n"1","",""\n')
    )
    m = load_mapping("ag-news")
    good, bad = items_of_archive_file(csv_file, m)
    assert good.article and good.article.title == "Headline, with comma"
    assert good.article.source == "ag-news"
    assert bad.article is None and bad.line == 2


def test_csv_with_header_and_named_columns(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text("headline,text,when\nA title,Some text.,2024-11-19T10:00:00Z\n")
    m = Mapping(fields=parse_columns(["title=headline", "body=text", "published_at=when"]))
    (item,) = items_of_archive_file(f, m)
    assert item.article and item.article.times.published == datetime(2024, 11, 19, 10, tzinfo=UTC)
    missing = Mapping(fields={"title": "nope", "body": "text"})
    (err,) = items_of_archive_file(f, missing)
    assert err.error and "nope" in err.error


def test_broken_gzip_and_unknown_format(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl.gz").write_bytes(b"not gzip")
    (tmp_path / "y.bin").write_bytes(b"\0")
    errors = [i.error for i, _ in read_archive([tmp_path / "x.jsonl.gz", tmp_path / "y.bin"])]
    assert errors[0] and "cannot read" in errors[0]
    assert errors[1] and "unknown format" in errors[1]


def test_folders_recurse_and_fraction_reaches_one(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("# Title A\nBody A.")
    (tmp_path / "b.json").write_text('[{"title":"B","body":"b"},{"title":"C","body":"c"}]')
    (tmp_path / "ignored.bin").write_text("x")
    out = list(read_archive([tmp_path]))
    assert [i.article.title for i, _ in out if i.article] == ["B", "C", "Title A"]
    fractions = [f for _, f in out]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)


def test_gap_scales_and_never_goes_negative() -> None:
    t0 = datetime(1987, 2, 26, 15, 0, tzinfo=UTC)
    t1 = datetime(1987, 2, 26, 15, 1, tzinfo=UTC)
    assert gap_s(t0, t1, 60) == 1.0
    assert gap_s(t1, t0, 60) == 0.0
    assert gap_s(None, t1, 60) == 0.0


def test_progress_and_summary_text() -> None:
    p = Progress(count=50, published=40, elapsed_s=10.0, fraction=0.25)
    assert p.rate == 5.0 and p.eta_s == 30.0
    line = format_progress(p)
    assert "25.0%" in line and "5/s" in line and "ETA 00:30" in line
    r = ArchiveReport(published=["a"], published_count=1, duplicates=2, elapsed_s=1.0)
    r.skipped = [
        Item(Path("f"), 1, None, "title: missing"),
        Item(Path("f"), 2, None, "title: missing"),
    ]
    r.failed = [("id1", "KafkaTimeoutError")]
    text = r.summary()
    assert "published 1, duplicates 2, skipped 2, failed 1, retries 0" in text
    assert "2 x skipped: title: missing" in text and "1 x failed: KafkaTimeoutError" in text


@pytest.mark.skipif(
    not (SHARED / "corpora" / "reuters21578-xml").is_dir(), reason="../shared corpora absent"
)
def test_real_reuters_file_maps() -> None:
    items = list(items_of_archive_file(SHARED / "corpora" / "reuters21578-xml" / "reut2-000.xml"))
    good = [i for i in items if i.article]
    assert len(items) == 1000 and len(good) > 950


def test_include_glob_inside_folders(tmp_path: Path) -> None:
    (tmp_path / "README.txt").write_text("# Not an article\nJust a readme.")
    (tmp_path / "reut2-000.xml").write_text(REUTERS)
    titles = [i.article.title for i, _ in read_archive([tmp_path], include="*.xml") if i.article]
    assert titles == ["BAHIA COCOA REVIEW", "SHORT ONE"]


_cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda s: s.strip())


@given(st.lists(st.tuples(_cell, _cell), min_size=1, max_size=10))
def test_csv_rows_round_trip(rows: list[tuple[str, str]]) -> None:
    import csv
    import io
    import tempfile

    buf = io.StringIO()
    csv.writer(buf).writerows([("title", "body"), *rows])
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "x.csv"
        f.write_text(buf.getvalue(), encoding="utf-8")
        items = list(items_of_archive_file(f))
    assert len(items) == len(rows)
    for item, (title, body) in zip(items, rows, strict=True):
        assert item.article is not None, item.error
        assert item.article.title == title.strip() and item.article.body == body.strip()
