"""The installed commands import only what a plain `pip install .` brings (extras are imported lazily)."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions, requires
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("flows", "tasks", "schemas", "eval")  # what pyproject.toml installs


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _module_level_imports(path: Path) -> set[str]:
    """Top-level names imported when the module is imported (not inside functions or TYPE_CHECKING blocks)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_modules_import_only_core_dependencies_at_import_time() -> None:
    core = {_name(r) for r in requires("parallel-corpus") or [] if "extra ==" not in r}
    distributions = packages_distributions()
    missing = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in _module_level_imports(path):
                if name in sys.stdlib_module_names or name in PACKAGES or name == "__future__":
                    continue
                if not {_name(d) for d in distributions.get(name, [])} & core:
                    missing[f"{path.relative_to(ROOT)}: {name}"] = distributions.get(name, [])
    assert not missing, f"imported at module level but not a core dependency in pyproject.toml: {missing}"
