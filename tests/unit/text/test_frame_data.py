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


COURT = [
    (
        "fr",
        "Le tribunal a condamné deux hommes pour l'attentat à la voiture piégée qui a tué neuf personnes.",
    ),
    (
        "es",
        "El tribunal condenó a dos hombres por el atentado con coche bomba que mató a nueve personas.",
    ),
    ("pt", "O tribunal condenou dois homens pelo atentado com carro-bomba que matou nove pessoas."),
    (
        "ru",
        "Суд вынес приговор двум мужчинам за взрыв, в результате которого погибли девять человек.",
    ),
    ("uk", "Суд виніс вирок двом чоловікам за вибух, внаслідок якого загинули дев'ять людей."),
    (
        "tr",
        "Mahkeme, dokuz kişinin öldüğü bombalı saldırı nedeniyle iki kişiye hapis cezası verdi.",
    ),
    ("ar", "أصدرت المحكمة حكما بالسجن على رجلين بسبب تفجير سيارة مفخخة أسفر عن مقتل تسعة أشخاص."),
    ("he", "בית המשפט גזר את דינם של שני גברים בגין פיגוע מכונית תופת שבו נהרגו תשעה בני אדם."),
    ("fa", "دادگاه دو مرد را به دلیل بمب‌گذاری خودرو که ۹ نفر را کشت محکوم کرد."),
    ("zh", "法院判决两名男子参与了造成九人死亡的汽车炸弹袭击。"),
]


@pytest.mark.parametrize(("lang", "body"), COURT)
def test_a_verdict_about_a_bombing_is_justice_in_every_language(lang: str, body: str) -> None:
    raw = from_mapping({"title": "—", "body": body, "language": lang, "published_at": NOW})
    t = Chain(rules=()).tagged(raw)
    assert not t.events and t.severity == "low"
    assert t.suppressed_events
    assert all(e.frame and e.frame.current.label == "justice" for e in t.suppressed_events)
    assert len({(e.type, e.sentence) for e in t.suppressed_events}) == len(t.suppressed_events)


def test_a_storm_that_strikes_is_nature_not_an_attack() -> None:
    body = "La tempête a frappé la côte bretonne et tué trois personnes."
    raw = from_mapping({"title": "—", "body": body, "language": "fr", "published_at": NOW})
    t = Chain(rules=()).tagged(raw)
    assert not t.events
    assert [e.frame.hostile.label for e in t.suppressed_events if e.frame] == ["disaster"]


def test_native_frame_cues_need_every_list(tmp_path: Path) -> None:
    text = (DATA / "frame.yaml").read_text(encoding="utf-8")
    start = text.index("  de:\n    justice:")
    line = text[:start].count("\n") + 2
    bad = text.replace("  de:\n    justice: [", "  de:\n    justic: [", 1)
    path = tmp_path / "frame.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(DataFileError, match=rf"frame.yaml:{line}: native.de.justic"):
        load_frame(path)
