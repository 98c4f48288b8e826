"""The import rules of docs/architecture.md, read off the code: the folder tree is the architecture."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = {"tasks.errors", "tasks.files", "tasks.text", "tasks.retry", "tasks.machine"}
# Stages that read the store on purpose (docs/architecture.md says why); no other stage may.
STAGES_READING_THE_STORE = {"tasks.works", "tasks.corrections"}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module the file imports, at any depth of the file (imports inside functions count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _layer(module: str) -> str:
    if module.startswith("schemas"):
        return "schemas"
    if module in SHARED:
        return "shared"
    if module.startswith("tasks.store"):
        return "store"
    if module.startswith("tasks.io"):
        return "io"
    if module == "tasks.rebuild":
        return "chain"
    if module.startswith("tasks"):
        return "stage"
    if module.startswith("flows"):
        return "flows"
    return "outside"


# Which layers each layer may import (besides itself and the third-party world).
ALLOWED = {
    "schemas": {"schemas"},
    "shared": set(),
    "stage": {"stage", "schemas", "shared"},
    "store": {"store", "stage", "schemas", "shared"},
    "chain": {"store", "stage", "schemas", "shared"},
    "io": {"io", "chain", "store", "stage", "schemas", "shared"},
    "flows": {"flows", "io", "chain", "store", "stage", "schemas", "shared", "outside"},
}
LIBRARY = sorted(p for folder in ("schemas", "tasks", "flows") for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_module_imports_only_the_layers_below_it(path: Path) -> None:
    module = _module(path)
    layer = _layer(module)
    project = {m for m in _imports(path) if m.split(".")[0] in {"schemas", "tasks", "flows", "eval", "bench",
                                                                 "tests"}}
    allowed = ALLOWED[layer] | ({"store"} if module in STAGES_READING_THE_STORE else set())
    wrong = sorted(m for m in project if _layer(m) not in allowed or m.split(".")[0] in {"eval", "bench", "tests"})
    assert not wrong, f"{module} ({layer}) imports {wrong}"


@pytest.mark.parametrize("path", [p for p in LIBRARY if not p.is_relative_to(ROOT / "flows")],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_outside_flows_imports_prefect(path: Path) -> None:
    assert not [m for m in _imports(path) if m.split(".")[0] == "prefect"], path


def test_no_test_module_imports_another() -> None:
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        wrong = [m for m in _imports(path) if m.startswith("tests.") and m not in {"tests.helpers"}]
        assert not wrong, f"{path.name} imports {wrong}: shared test code goes in tests/helpers.py"
