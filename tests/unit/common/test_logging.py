"""One log configuration: JSON lines carrying the service and the ids bound to the current record."""

from __future__ import annotations

import json
import logging

import pytest

from services.common import logging as nlog


@pytest.fixture
def restore_logging() -> object:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield None
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_service_and_record_ids(
    restore_logging: object, capsys: pytest.CaptureFixture[str]
) -> None:
    nlog.setup("INFO", "json")
    nlog.set_service("enrichment")
    nlog.new_record(b"article-1")
    nlog.add_ids(story_id="story-9", alert_id=None)
    logging.getLogger("t").warning("dead-lettering %s", "x")
    nlog.new_record(None)
    logging.getLogger("t").info("next")
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert first["message"] == "dead-lettering x"
    assert first["level"] == "WARNING"
    assert (first["service"], first["article_id"], first["story_id"]) == (
        "enrichment",
        "article-1",
        "story-9",
    )
    assert "alert_id" not in first
    assert "article_id" not in second, "ids must not leak into the next record"


def test_text_format_appends_ids(
    restore_logging: object, capsys: pytest.CaptureFixture[str]
) -> None:
    nlog.setup("INFO", "text")
    with nlog.bind(alert_id="al-1"):
        logging.getLogger("t").warning("sent")
    assert capsys.readouterr().err.rstrip().endswith("t: sent alert_id=al-1")


def test_faust_gets_the_same_configuration(restore_logging: object) -> None:
    nlog.setup("DEBUG", "json")
    config = nlog.current_config()
    assert config["root"]["level"] == "DEBUG"
    assert "json" in config["formatters"]
    assert config["loggers"]["faust"]["level"] == logging.INFO  # rebalance steps, when debugging
    assert nlog.dict_config("INFO")["loggers"]["faust"]["level"] == logging.WARNING
