"""The frame's data file (services/text/data/frame.yaml): validated with file:line errors, and its
per-language dates read against the publication date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.ingest.parse import from_mapping
from services.offline.chain import Chain
from services.text.datafile import DataFileError
from services.text.frame import load_frame
from services.text.taxonomy import DATA

NOW = "2026-11-20T08:00:00Z"


def test_the_shipped_file_loads_and_has_dates_for_every_lexicon_language() -> None:
    cues = load_frame()
    assert {"en", "fr", "es", "pt", "de", "ru", "uk", "tr", "ar", "he", "fa", "zh"} <= set(
        cues.dates
    )


def test_a_bad_entry_is_reported_with_file_and_line(tmp_path: Path) -> None:
    text = (DATA / "frame.yaml").read_text(encoding="utf-8")
    bad = text.replace("  recent_days: 7", "  recent_days: soon", 1)
    path = tmp_path / "frame.yaml"
    path.write_text(bad, encoding="utf-8")
    line = bad.splitlines().index("  recent_days: soon") + 1
    with pytest.raises(DataFileError, match=rf"frame.yaml:{line}: dates.recent_days"):
        load_frame(path)


def test_a_month_list_must_have_twelve_names(tmp_path: Path) -> None:
    text = (DATA / "frame.yaml").read_text(encoding="utf-8")
    bad = text.replace("[janvier, février, mars,", "[janvier, mars,", 1)
    path = tmp_path / "frame.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(DataFileError, match=r"frame.yaml:\d+: dates.languages.fr"):
        load_frame(path)


@pytest.mark.parametrize(
    ("lang", "text", "when"),
    [
        ("en", "on Nov. 2, 2026", date(2026, 11, 2)),
        ("en", "on 2 November", date(2026, 11, 2)),
        ("fr", "le 2 décembre", date(2025, 12, 2)),  # no year, after publication: last year's
        ("es", "el 2 de noviembre de 2024", date(2024, 11, 2)),
        ("ru", "2 ноября", date(2026, 11, 2)),
        ("zh", "2024年11月2日", date(2024, 11, 2)),
        ("tr", "2 Kasım", date(2026, 11, 2)),
    ],
)
def test_dates_in_each_language(lang: str, text: str, when: date) -> None:
    found = load_frame().dates[lang].dates(text, date(2026, 11, 20))
    assert [d for _, d in found][:1] == [when]


@pytest.mark.parametrize(
    ("lang", "body", "current"),
    [
        ("fr", "Des missiles russes ont frappé Kharkiv le 2 novembre, selon les autorités.", False),
        ("fr", "Des missiles russes ont frappé Kharkiv mardi, selon les autorités.", True),
        ("es", "Misiles rusos impactaron en Járkov hace 3 semanas, según las autoridades.", False),
        ("ru", "Российские ракеты ударили по Харькову 2 ноября, сообщили власти.", False),
        ("zh", "俄罗斯导弹于11月2日袭击了哈尔科夫，当局表示。", False),
        ("zh", "俄罗斯导弹袭击了哈尔科夫，当局表示。", True),
    ],
)
def test_other_languages_anchor_their_events_in_time(lang: str, body: str, current: bool) -> None:
    raw = from_mapping({"title": "Kharkiv", "body": body, "language": lang, "published_at": NOW})
    t = Chain(rules=()).tagged(raw)
    assert bool(t.events) is current
    if not current:
        assert t.suppressed_events and t.severity == "low"
        assert all(e.frame and e.frame.failed == ["current"] for e in t.suppressed_events)
