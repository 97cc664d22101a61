"""The house plan, enforced: a stage never imports another stage, and no package imports a layer
above its own. docs/architecture.md explains the layers; this test is their single source.

Every import counts, also those inside functions (deferred imports are still dependencies).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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


def _imports(path: Path, module: str) -> set[str]:
    """Absolute, relative (`from ..tagging import core`, resolved against `module`) and
    `importlib.import_module("services.x")` / `__import__("services.x")` imports with a literal."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, package)
            if base:
                found.add(base)
                found |= {f"{base}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(_absolute(first.value.lstrip("."), _dots(first.value), package))
    return {m for m in found if m.split(".")[0] in ("schemas", "services")}


def _absolute(name: str | None, level: int, package: str) -> str:
    """The module an import names: `level` dots go up from `package` (one dot: the package)."""
    if level == 0:
        return name or ""
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - (level - 1)]) if level - 1 < len(parts) else ""
    return f"{base}.{name}" if base and name else base or (name or "")


def _dots(name: str) -> int:
    return len(name) - len(name.lstrip("."))


def _is_dynamic_import(func: ast.expr) -> bool:
    """`importlib.import_module(...)`, `import_module(...)` or `__import__(...)`."""
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module"
    return isinstance(func, ast.Name) and func.id in ("import_module", "__import__")


def _module_of(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")


def violations(root: Path = ROOT) -> list[str]:
    out = []
    for path in sorted([*root.glob("services/**/*.py"), *root.glob("schemas/**/*.py")]):
        module = _module_of(path, root)
        if module in ("services", "schemas"):
            continue  # the namespace packages' own __init__
        own = _package(module)
        allowed = ALLOWED.get(own)
        if allowed is None:
            out.append(
                f"{module}: package {own} has no place in the layers (tests/unit/test_layers.py)"
            )
            continue
        for imported in sorted(_imports(path, module)):
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


def _probe(root: Path, source: str, where: str = "services/alerts/_layer_probe.py") -> list[str]:
    """The check run on a tree under `root` (pytest's tmp_path) holding one probe module."""
    path = root / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return violations(root)


@pytest.mark.parametrize(
    "source",
    [
        "from services.tagging.core import tag\n",  # absolute
        "from ..tagging import core\n",  # relative, up to services/ and down into a stage
        "from ..tagging.core import tag\n",
        "import importlib\nimportlib.import_module('services.tagging.core')\n",
        "from importlib import import_module\nimport_module('services.tagging')\n",
        "__import__('services.tagging.core')\n",
        "def later() -> None:\n    from .. import tagging\n",  # deferred, `from .. import x`
    ],
)
def test_the_check_catches_a_stage_importing_another(tmp_path: Path, source: str) -> None:
    found = _probe(tmp_path, source)
    assert any("services.alerts._layer_probe imports services.tagging" in v for v in found), found


def test_relative_imports_within_a_stage_and_to_shared_layers_pass(tmp_path: Path) -> None:
    source = "from . import core\nfrom .core import x\nfrom ..common import topics\n"
    assert _probe(tmp_path, source) == []


def test_a_relative_import_from_a_package_init_resolves_from_the_package(tmp_path: Path) -> None:
    found = _probe(tmp_path, "from .core import x\n", "services/common/__init__.py")
    assert found == []  # services.common.core: its own package
    found = _probe(tmp_path, "from ..tagging import x\n", "services/common/__init__.py")
    assert any("services.common imports services.tagging" in v for v in found), found


def test_the_self_check_leaves_the_source_tree_alone(tmp_path: Path) -> None:
    before = sorted(ROOT.glob("services/**/_layer_probe*.py"))
    _probe(tmp_path, "from ..tagging import core\n")
    assert sorted(ROOT.glob("services/**/_layer_probe*.py")) == before == []
    assert (tmp_path / "services" / "alerts" / "_layer_probe.py").exists()
