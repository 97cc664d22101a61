"""`newswire tail`, pure parts: where to start, which records to keep, how to print them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from services.delivery.render import terminal_safe

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now: datetime) -> datetime:
    """`10m`, `2h`, `3d` ago, or an ISO 8601 time (UTC when no zone is given)."""
    m = _RELATIVE.match(text)
    if m:
        return now - timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"--since: expected e.g. 10m, 2h, 1d or an ISO time, got {text!r}"
        ) from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Filter:
    """`field=value` (dotted path into the JSON; lists match when any element equals value)."""

    path: tuple[str, ...]
    value: str

    @classmethod
    def parse(cls, text: str) -> Filter:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--where: expected FIELD=VALUE, got {text!r}")
        return cls(tuple(name.strip().split(".")), value.strip())

    def test(self, doc: Any) -> bool:
        return self._match(doc, self.path)

    def _match(self, node: Any, path: tuple[str, ...]) -> bool:
        if isinstance(node, list):
            return any(self._match(x, path) for x in node)
        if not path:
            if isinstance(node, bool):
                return str(node).lower() == self.value.lower()
            return str(node).casefold() == self.value.casefold()
        if isinstance(node, dict) and path[0] in node:
            return self._match(node[path[0]], path[1:])
        return False


def keep(value: bytes | None, filters: list[Filter], grep: str | None) -> bool:
    text = (value or b"").decode("utf-8", "replace")
    if grep and grep.casefold() not in text.casefold():
        return False
    if not filters:
        return True
    try:
        doc = json.loads(text)
    except ValueError:
        return False
    return all(f.test(doc) for f in filters)


def format_record(
    partition: int, offset: int, timestamp_ms: int, key: bytes | None, value: bytes | None
) -> str:
    when = datetime.fromtimestamp(timestamp_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = (value or b"").decode("utf-8", "replace")
    line = f"{when} {partition}@{offset} key={(key or b'').decode('utf-8', 'replace')} {text[:300]}"
    return terminal_safe(line)
