"""Training end to end on a tiny corpus written here, laid out like ../shared/corpora.

The sentences are built from phrases written for this test, so the readers, the cross-validation,
the export and the dev evaluation all run on a fresh clone; one check on the real corpora runs
only where they are.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.offline.corpora import UNLABELLED, load_all, sentences
from services.offline.model_eval import gate_pattern, gate_terms
from services.offline.train import model_train, sample_weights, train
from services.text.classifier import SentenceModel

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "corpora"

ACTORS = ["Insurgents", "Gunmen", "Soldiers", "Rebels", "Militants", "Troops"]
ACTS = ["attacked a police post", "shelled a village", "ambushed a patrol", "bombed a bridge"]
TOLLS = ["killing five people", "wounding nine guards", "and two civilians died"]
TEAMS = ["The home side", "The champions", "The visiting club", "Her doubles partner"]
GAMES = ["won the final", "lost the league match", "drew the cup tie", "clinched the title"]
FIRMS = ["The carmaker", "A retail chain", "The phone maker", "The insurer"]
FIGURES = ["reported higher profits", "cut its sales forecast", "raised its dividend"]


def _violent() -> list[str]:
    combos = itertools.product(ACTORS, ACTS, TOLLS)
    return [f"{a} {b} in the north, {c}." for a, b, c in combos]


def _calm() -> list[str]:
    sport = [f"{t} {g} on Sunday evening." for t, g in itertools.product(TEAMS, GAMES)]
    trade = [f"{f} {g} for the third quarter." for f, g in itertools.product(FIRMS, FIGURES)]
    return sport + trade


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _reuters(texts: list[str]) -> str:
    docs = "".join(
        f'<REUTERS NEWID="{i}"><TEXT><TITLE>NOTE {i}</TITLE><BODY>{t}</BODY></TEXT></REUTERS>'
        for i, t in enumerate(texts)
    )
    return f'<?xml version="1.0"?><LEWIS>{docs}</LEWIS>'


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpora")
    violent, calm = _violent(), _calm()
    cameo = [f"{s}\t4" for s in violent[:30]] + [f"{s}\t{i % 3}" for i, s in enumerate(calm)]
    _write(
        root / "conflibert-cameo-quadclass" / "train.tsv", [*cameo, "Leaders traded threats.\t3"]
    )
    for split, part in (("train", violent[30:50]), ("dev", violent[50:60])):
        _write(
            root / "conflibert-satp-attacks" / f"{split}.tsv", [f"{s}\t1\t0\t0\t0" for s in part]
        )
        ipe = [f"{s}\t1\t0\t0\t0\t0" for s in part[:6]] + ["the shops stayed shut.\t0\t0\t0\t0\t0"]
        _write(root / "conflibert-indiapoliceevents-sents" / f"{split}.tsv", ipe)
        actor = part[0].split()[0].upper()
        muc = {
            f"{split}-1": {"doc": " ".join(part[:4]).upper(), "roles": {"perp": [[actor]]}},
            f"{split}-2": {"doc": "THE ASSEMBLY MET ON MONDAY. NOTHING HAPPENED.", "roles": {}},
        }
        (root / "conflibert-muc4").mkdir(exist_ok=True)
        (root / "conflibert-muc4" / f"{split}.json").write_text(json.dumps(muc))
        crime = f"Cartel report. {part[0]} The trade goes on.\t1\t0\t0\t0\t0\t0\t0"
        _write(root / "conflibert-insightcrime" / f"{split}.tsv", [crime])
        _write(root / "conflibert-bbc-news" / f"{split}.tsv", [f"{' '.join(calm[:8]).lower()}\t0"])
    ag = [f'"{2 + i % 3}","{s[:20]}","{s}"' for i, s in enumerate(calm)]
    _write(root / "ag-news-test" / "test.csv", [*ag, '"1","World","Leaders met in the capital."'])
    (root / "reuters21578-xml").mkdir()
    (root / "reuters21578-xml" / "reut2-000.xml").write_text(_reuters(calm[:12]))
    (root / "reuters21578-xml" / "reut2-008.xml").write_text(_reuters(calm[12:]))
    return root


def test_readers_label_and_split_the_layout(corpora: Path) -> None:
    examples = load_all(corpora)
    sources = {e.source for e in examples}
    assert {"satp", "muc4-incident", "bbc", "reuters", "cameo-material-conflict"} <= sources
    assert {e.split for e in examples} == {"train", "dev"}
    verbal = [e for e in examples if e.source == "cameo-verbal-conflict"]
    assert verbal and all(e.label == UNLABELLED for e in verbal)
    assert all(e.label == 1 for e in examples if e.source == "muc4-incident")


@pytest.mark.filterwarnings("ignore:The least populated class:UserWarning")  # tiny strata
def test_training_writes_a_model_that_separates_the_classes(corpora: Path, tmp_path: Path) -> None:
    out = tmp_path / "model.json.gz"
    metrics = train(corpora, out, seed=0)
    model = SentenceModel.load(out)
    assert model.metadata["cv"]["C"] == metrics["cv"]["C"]
    assert metrics["dev"]["pooled"]["@0.5"]["f1"] >= 0.8
    assert model.score("Rebels bombed a police post in the north, killing nine.") > 0.5
    assert model.score("The champions won the league match on Sunday evening.") < 0.5
    again = tmp_path / "again.json.gz"
    train(corpora, again, seed=0)
    assert again.read_bytes() == out.read_bytes()  # same data and seed, same bytes


def test_click_command_trains_and_prints(corpora: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli.json.gz"
    args = ["--corpora", str(corpora), "--out", str(out), "--no-cv"]
    result = CliRunner().invoke(model_train, args)
    assert result.exit_code == 0, result.output
    assert "gated@0.7" in result.output
    assert out.exists()


def test_weights_balance_classes_and_temper_big_sources(corpora: Path) -> None:
    examples = [e for e in load_all(corpora) if e.label != UNLABELLED]
    w = sample_weights(examples)
    pos = sum(x for x, e in zip(w, examples, strict=True) if e.label == 1)
    neg = sum(x for x, e in zip(w, examples, strict=True) if e.label == 0)
    assert pos == pytest.approx(neg)


def test_gate_matches_weapon_and_violence_words_not_lookalikes() -> None:
    gate = gate_pattern(gate_terms())
    assert gate.search("Two grenades were thrown at the convoy")
    assert gate.search("an air-strike hit the depot")
    assert not gate.search("The company reported record sales")


def test_sentence_split_drops_fragments() -> None:
    assert sentences("Delhi. Riots spread fast. Shops shut early today!") == [
        "Riots spread fast.",
        "Shops shut early today!",
    ]


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/corpora is absent (fresh clone)")
def test_real_corpora_give_both_labels_in_both_splits() -> None:
    examples = load_all(SHARED)
    for split in ("train", "dev"):
        labels = {e.label for e in examples if e.split == split}
        assert {0, 1} <= labels
