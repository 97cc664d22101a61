"""One logging configuration for every service: JSON lines (or text) carrying the ids in context.

Ids are bound per record with `bind(article_id=...)` (a contextvar, so concurrent tasks do not mix them)
and a filter copies them onto every log record, so a line about a dead letter names its article.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import logging
import logging.config
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS

CONTEXT_FIELDS = ("service", "article_id", "story_id", "alert_id")
_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "newswire_log_context", default=MappingProxyType({})
)
_service: list[str] = []  # the process's service name, set once by `set_service`
_applied: dict[str, Any] = {}


def set_service(name: str) -> None:
    _service[:] = [name]


@contextlib.contextmanager
def bind(**ids: str | None) -> Iterator[None]:
    """Adds ids to every log line written inside the block (None values are left out)."""
    token = _context.set({**_context.get(), **{k: v for k, v in ids.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


def new_record(key: bytes | str | None) -> None:
    """Start a record's context in this task: its Kafka key is the article id (alerts: alert id)."""
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
    _context.set({"article_id": text} if text else {})


def add_ids(**ids: str | None) -> None:
    """Add ids (story, alert) to the current record's context."""
    _context.set({**_context.get(), **{k: v for k, v in ids.items() if v}})


def context() -> dict[str, str]:
    found = dict(_context.get())
    if _service:
        found.setdefault("service", _service[0])
    return found


class ContextFilter(logging.Filter):
    """Puts the bound ids on the record; `ids` is a ready-made suffix for the text format."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = context()
        for key in CONTEXT_FIELDS:
            if key in ctx:
                setattr(record, key, ctx[key])
        record.ids = "".join(f" {k}={v}" for k, v in ctx.items() if k != "service")
        return True


def dict_config(level: str = "INFO", fmt: str = "json") -> dict[str, Any]:
    """The dictConfig used by the CLI and handed to faust's worker, which would otherwise replace it."""
    formatters: dict[str, Any] = {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "static_fields": {},
            "reserved_attrs": [*RESERVED_ATTRS, "ids"],
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s%(ids)s"},
    }
    # The libraries (faust, aiokafka) log every rebalance step at INFO: shown only when debugging.
    wanted = logging.getLevelName(level.upper())
    quiet = logging.INFO if wanted == logging.DEBUG else max(logging.WARNING, wanted)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {fmt: formatters[fmt]},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": fmt,
                "filters": ["context"],
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {name: {"level": quiet} for name in ("aiokafka", "faust", "mode", "kafka")},
    }


def setup(level: str = "INFO", fmt: str = "json") -> None:
    config = dict_config(level, fmt)
    logging.config.dictConfig(config)
    _applied.clear()
    _applied.update(config)


def current_config() -> dict[str, Any]:
    """The configuration last applied by `setup` (a copy: dictConfig consumes what it is given)."""
    return copy.deepcopy(_applied) if _applied else dict_config()
