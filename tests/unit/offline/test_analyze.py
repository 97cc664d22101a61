"""`newswire analyze`, `newswire rules check` and `newswire rules backtest`, without a broker."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from services.cli import main

ROOT = Path(__file__).parents[3]
RULES = ROOT / "services" / "alerts" / "data" / "rules.yaml"
SEEDS = ROOT / "seeds"

LINES = [
    {"title": "Markets", "body": "Shares rose on Monday as investors cheered earnings."},
    {
        "title": "Strike",
        "body": "Iran launched ballistic missiles at Israel overnight.",
        "url": "https://a.example/1",
    },
    {"title": "Broken"},
    {"title": "Drill", "body": "A drill simulated a drone attack on the airport."},
]


def jsonl() -> str:
    return "".join(json.dumps(x) + "\n" for x in LINES)


def test_analyze_stdin_jsonl_one_line_per_article_in_order() -> None:
    res = CliRunner().invoke(main, ["analyze", "-"], input=jsonl())
    assert res.exit_code == 0, res.output
    out = [json.loads(line) for line in res.stdout.splitlines()]
    assert [o["article"]["title"] for o in out] == ["Markets", "Strike", "Drill"]
    assert [len(o["alerts"]) for o in out] == [0, 1, 0]
    assert out[1]["alerts"][0]["severity"] == "high"
    assert out[1]["alerts"][0]["rule_id"] == "missile-strike"
    assert out[2]["suppressed"][0]["reason"] == "hypothetical"
    assert "skipped -:3: body: Field required" in res.stderr


def test_analyze_files_pretty() -> None:
    res = CliRunner().invoke(main, ["analyze", str(SEEDS), "--format", "pretty"])
    assert res.exit_code == 0, res.output
    assert "ALERT  [critical] nuclear-threat" in res.stdout
    assert "ALERT  [critical] missile-strike" in res.stdout
    assert "score  event" in res.stdout


def test_rules_check_ok_and_bad(tmp_path: Path) -> None:
    ok = CliRunner().invoke(main, ["rules", "check", str(RULES)])
    assert ok.exit_code == 0 and "ok, 13 rule(s)" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: x\n    description: d\n    severity: huge\n    any: [a]\n")
    res = CliRunner().invoke(main, ["rules", "check", str(bad)])
    assert res.exit_code == 1
    assert f"{bad}:4: rules[0] (id x).severity:" in res.stderr
    assert "1 problem(s)" in res.stderr


def test_rules_backtest_reports_what_would_fire(tmp_path: Path) -> None:
    archive = tmp_path / "archive.jsonl"
    archive.write_text(jsonl() + json.dumps(LINES[1] | {"url": "https://b.example/2"}) + "\n")
    res = CliRunner().invoke(main, ["rules", "backtest", str(RULES), str(archive)])
    assert res.exit_code == 0, res.output
    assert "4 article(s), 1 skipped, 1 alert(s) (high 1)" in res.stdout
    # two outlets, one story: one alert, two matching articles
    line = next(x for x in res.stdout.splitlines() if x.strip().startswith("missile-strike"))
    assert line.split()[1:] == ["1", "alert(s)", "1", "stor(y/ies)", "2", "matching", "article(s)"]
