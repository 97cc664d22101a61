"""Data files (rules, taxonomy, lexicons) validated by a pydantic model, every problem reported as
`file:line: field: problem`, so whoever edits the YAML finds the line without reading the code."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class DataFileError(ValueError):
    """A data file that does not validate; each line of the message is `file:line: field: problem`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Located:
    """A parsed YAML document with the line of every key and item, to name where a problem is."""

    def __init__(self, text: str, name: str) -> None:
        self.name = name
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            self.doc: Any = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            raise DataFileError([f"{name}:{line}: (file): not valid YAML: {exc}"]) from exc
        self.lines: dict[tuple[Any, ...], int] = {}
        if node is not None:
            _lines(node, (), self.lines)

    def problem(self, loc: tuple[Any, ...], msg: str) -> str:
        return f"{self.name}:{self.line_of(loc)}: {self.field(loc)}: {msg}"

    def line_of(self, loc: tuple[Any, ...]) -> int:
        for n in range(len(loc), -1, -1):
            if loc[:n] in self.lines:
                return self.lines[loc[:n]]
        return 1

    def field(self, loc: tuple[Any, ...]) -> str:
        """`rules[2] (id missile-strike).severity`: an item's id helps where line numbers do not."""
        out = ""
        for i, part in enumerate(loc):
            if isinstance(part, int):
                out += f"[{part}]"
                item_id = self.get((*loc[: i + 1], "id"))
                if isinstance(item_id, str):
                    out += f" (id {item_id})"
            else:
                out += ("." if out else "") + str(part)
        return out or "(file)"

    def get(self, path: tuple[Any, ...]) -> Any:
        doc = self.doc
        for p in path:
            try:
                doc = doc[p]
            except (KeyError, IndexError, TypeError):
                return None
        return doc

    def validate(self, model: type[M]) -> M:
        try:
            return model.model_validate(self.doc)
        except ValidationError as exc:
            raise DataFileError(
                [
                    self.problem(tuple(e["loc"]), e["msg"].removeprefix("Value error, "))
                    for e in exc.errors()
                ]
            ) from exc


def read_located(path: Path) -> Located:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError([f"{path}:0: (file): cannot read: {exc}"]) from exc
    return Located(text, str(path))


def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value
            _lines(v, (*path, key), out)
            out[(*path, key)] = k.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _lines(v, (*path, i), out)
