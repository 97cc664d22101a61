"""Writes the JSON Schema of every event into schemas/json/ so consumers in other languages can use the topics."""

from __future__ import annotations

import json
from pathlib import Path

from schemas import MODELS

JSON_DIR = Path(__file__).parent / "json"


def render() -> dict[str, str]:
    return {
        f"{name}.schema.json": json.dumps(model.model_json_schema(), indent=2, sort_keys=True)
        + "\n"
        for name, model in MODELS.items()
    }


def write(directory: Path = JSON_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for filename, text in render().items():
        path = directory / filename
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write():
        print(p)
