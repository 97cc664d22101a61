"""`newswire eval`'s arithmetic and its run over the fixtures (no corpora needed)."""

from __future__ import annotations

from click.testing import CliRunner

from services.cli import main
from services.offline.quality import Judged, by_event_type, confusion, half, score


def _j(expected: str, got: str, kind: str, primary: str = "none") -> Judged:
    return Judged("t", expected, kind, got, frozenset({primary} - {"none"}), "en", primary)


def test_score_counts_alerts_against_labels_and_severity() -> None:
    m = score(
        [
            _j("high", "high", "missile-strike", "missile-strike"),
            _j("medium", "high", "shelling", "shelling"),
            _j("none", "medium", "metaphor-sport", "attack"),
            _j("high", "none", "airstrike"),
            _j("none", "none", "negation"),
        ]
    )
    assert (m.tp, m.fp, m.fn, m.tn, m.severity_right) == (2, 1, 1, 1, 1)
    assert m.precision == 2 / 3 and m.recall == 2 / 3
    assert len(m.misses) == 2


def test_per_type_figures_and_confusion_use_the_primary_event() -> None:
    judged = [
        _j("high", "high", "missile-strike", "missile-strike"),
        _j("medium", "medium", "airspace-violation", "drone-attack"),
        _j("none", "medium", "metaphor-sport", "drone-attack"),
    ]
    per = by_event_type(judged, ["missile-strike", "drone-attack", "airspace-violation"])
    assert (per["missile-strike"].tp, per["missile-strike"].fp) == (1, 0)
    assert (per["drone-attack"].tp, per["drone-attack"].fp) == (0, 2)
    assert per["airspace-violation"].fn == 1
    assert confusion(judged, ["airspace-violation"]) == {("airspace-violation", "drone-attack"): 1}


def test_the_halves_are_stable_and_both_used() -> None:
    parts = {half(f"doc{i}") for i in range(50)}
    assert parts == {"tune", "report"}
    assert half("doc7") == half("doc7")


def test_eval_over_the_fixtures_prints_every_set_and_language() -> None:
    out = CliRunner().invoke(main, ["eval", "--no-real"])
    assert out.exit_code == 0, out.output
    assert "English fixtures, all: P 1.000 R 1.000" in out.output
    for lang in ("ru", "uk", "ar", "fa", "he", "tr", "zh", "fr", "es", "de", "pt"):
        assert f"{lang} test (" in out.output
    assert "per event type" in out.output


def test_per_axis_counts_candidates_and_judges_the_articles_left_silent() -> None:
    from services.offline.quality import by_axis

    judged = [
        Judged("a", "none", "trap", "none", frozenset(), "en", "none", ("current", "current")),
        Judged("b", "high", "airstrike", "none", frozenset(), "en", "none", ("literal",)),
        Judged("c", "high", "airstrike", "high", frozenset(), "en", "airstrike", ("current",)),
    ]
    assert by_axis(judged) == {"current": (3, 1, 0), "literal": (1, 0, 1)}
