"""Archive replay on the real stack: mixed formats, .gz, duplicates and skips in the summary."""

from __future__ import annotations

import asyncio
import gzip
import json
import uuid
from pathlib import Path

import pytest

from schemas import RawArticle
from services.common.kafka import ensure_topics
from services.common.settings import Settings
from services.ingest.archive import ArchiveReport, Progress, ReplayOptions, replay_archive
from services.ingest.parse import ArticleError
from services.ingest.replay import replay

pytestmark = pytest.mark.integration


async def test_replay_mixed_archive(stack: Settings, tmp_path: Path) -> None:
    await ensure_topics(stack)
    marker = uuid.uuid4().hex[:8]
    rows = [{"title": f"Story {marker} {i}", "body": f"Body {i} {marker}."} for i in range(5)]
    (tmp_path / "a.jsonl.gz").write_bytes(
        gzip.compress("\n".join(json.dumps(r) for r in [*rows, rows[0], {"title": "x"}]).encode())
    )
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "b.csv").write_text(
        f"title,body,published_at\nCSV {marker},From a table.,2024-11-19T10:00:00Z\n"
    )
    seen: list[Progress] = []
    report = await replay(
        stack, [tmp_path], opts=ReplayOptions(rate=1000, progress=seen.append, progress_every_s=0)
    )
    assert len(report.published) == 6 and report.duplicates == 1
    assert len(report.skipped) == 1 and "body" in (report.skipped[0].error or "")
    assert report.failed == []
    assert seen[-1].count == 8 and seen[-1].fraction == pytest.approx(1.0)
    assert "published 6, duplicates 1, skipped 1, failed 0, retries 0" in report.summary()


async def test_loop_replays_until_cancelled_and_keeps_the_figures(
    stack: Settings, tmp_path: Path
) -> None:
    await ensure_topics(stack)
    marker = uuid.uuid4().hex[:8]
    (tmp_path / "a.jsonl").write_text(
        "\n".join(json.dumps({"title": f"Loop {marker} {i}", "body": "b."}) for i in range(3))
    )
    report = ArchiveReport()
    opts = ReplayOptions(loop=True, batch=1, progress_every_s=0)

    def progress(p: Progress) -> None:
        if p.published >= 7:
            opts.loop = False  # the operator stops the loop: this pass is the last

    opts.progress = progress
    # Cancelling mid-publish can hang in the producer (known bug, see the issue notes), so the loop
    # is ended from the progress hook here rather than by cancelling the task.
    await asyncio.wait_for(replay_archive(stack, [tmp_path], opts, report), timeout=60)
    assert report.passes >= 3 and report.published_count >= 7
    assert report.duplicates == 0, "each pass starts with an empty duplicate set"
    assert len(set(report.published)) == 3
    assert f"{report.passes} passes" in report.summary()


async def test_check_hook_skips_with_its_reason(stack: Settings, tmp_path: Path) -> None:
    await ensure_topics(stack)
    marker = uuid.uuid4().hex[:8]
    (tmp_path / "a.jsonl").write_text(
        "\n".join(
            json.dumps({"title": f"{word} {marker}", "body": "b."}) for word in ("keep", "reject")
        )
    )

    def check(a: RawArticle) -> RawArticle:
        if a.title.startswith("reject"):
            raise ArticleError("published_at: too old for this replay")
        return a

    report = await replay_archive(stack, [tmp_path], ReplayOptions(check=check))
    assert report.published_count == 1
    assert [(i.line, i.error) for i in report.skipped] == [
        (2, "published_at: too old for this replay")
    ]


async def test_replay_applies_the_http_gate_and_goes_on_past_bad_lines(
    stack: Settings, tmp_path: Path
) -> None:
    """`newswire replay` (replay_archive with no check) published NUL characters, `javascript:`
    links and dates in 1900 and 2090, and one over-long CSV field aborted the whole replay."""
    await ensure_topics(stack)
    marker = uuid.uuid4().hex[:8]
    good = {"title": f"Gate {marker}", "body": "Fine."}
    bad = [
        {"title": f"nul \x00 {marker}", "body": "b."},
        {**good, "title": f"js {marker}", "url": "javascript:alert(1)"},
        {**good, "title": f"old {marker}", "published_at": "1900-01-01T00:00:00Z"},
        {**good, "title": f"late {marker}", "published_at": "2090-01-01T00:00:00Z"},
    ]
    (tmp_path / "a.jsonl.gz").write_bytes(
        gzip.compress("\n".join(json.dumps(r) for r in [*bad, good]).encode())
    )
    (tmp_path / "b.csv").write_text(
        f"title,body\nCSV one {marker},A.\nHuge {marker},{'x' * 200_000}\nCSV two {marker},B.\n"
    )
    report = await replay_archive(stack, [tmp_path], ReplayOptions(rate=1000))
    assert report.published_count == 3 and report.failed == []
    where = sorted((i.path.name, i.line) for i in report.skipped)
    assert where == [
        ("a.jsonl.gz", 1),
        ("a.jsonl.gz", 2),
        ("a.jsonl.gz", 3),
        ("a.jsonl.gz", 4),
        ("b.csv", 3),
    ]
    reasons = " | ".join(i.error or "" for i in report.skipped)
    for says in (
        "control character U+0000",
        "absolute http(s) URL",
        "before 1980",
        "in the future",
    ):
        assert says in reasons
    assert "field larger than field limit" in reasons
