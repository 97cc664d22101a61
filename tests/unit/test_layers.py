"""The house plan, enforced: a stage never imports another stage, and no package imports a layer
above its own. docs/architecture.md explains the layers; this test is their single source.

Every import counts, also those inside functions (deferred imports are still dependencies).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

STAGES = ("ingest", "enrichment", "tagging", "alerts", "trends", "dashboard")
SHARED = ("schemas", "services.common", "services.text", "services.delivery")
# package -> what it may import besides itself (prefixes of module names)
ALLOWED: dict[str, tuple[str, ...]] = {
    "schemas": (),
    "services.common": ("schemas",),
    "services.text": ("schemas", "services.common"),
    "services.delivery": ("schemas", "services.common"),
    **{f"services.{s}": SHARED for s in STAGES},
    "services.devstack": ("schemas", "services.common"),
    "services.ops": SHARED,
    "services.offline": (*SHARED, *(f"services.{s}" for s in STAGES)),
    "services.bench": (
        *SHARED,
        *(f"services.{s}" for s in STAGES),
        "services.offline",
        "services.devstack",
        "services.ops",
    ),
    "services.cli": ("schemas", "services"),
}


def _package(module: str) -> str:
    for pkg in sorted(ALLOWED, key=len, reverse=True):
        if module == pkg or module.startswith(pkg + "."):
            return pkg
    return module


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in found if m.split(".")[0] in ("schemas", "services")}


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def violations() -> list[str]:
    out = []
    for path in sorted([*ROOT.glob("services/**/*.py"), *ROOT.glob("schemas/**/*.py")]):
        module = _module_of(path)
        if module in ("services", "schemas"):
            continue  # the namespace packages' own __init__
        own = _package(module)
        allowed = ALLOWED.get(own)
        if allowed is None:
            out.append(
                f"{module}: package {own} has no place in the layers (tests/unit/test_layers.py)"
            )
            continue
        for imported in sorted(_imports(path)):
            target = _package(imported)
            if target == own or target == "services" or imported == "services":
                continue
            if not any(target == a or target.startswith(a + ".") for a in allowed):
                out.append(
                    f"{module} imports {imported}: {own} may import only {allowed or 'nothing'}"
                )
    return out


def test_no_stage_imports_another_and_no_layer_imports_a_higher_one() -> None:
    assert violations() == []


def test_the_check_catches_a_stage_importing_another(tmp_path: Path) -> None:
    bad = ROOT / "services" / "alerts" / "_layer_probe.py"
    bad.write_text("from services.tagging.core import tag\n", encoding="utf-8")
    try:
        assert any(
            "services.alerts._layer_probe imports services.tagging" in v for v in violations()
        )
    finally:
        bad.unlink()
