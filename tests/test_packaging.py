"""The installed commands import only what a plain `pip install .` brings (extras are imported lazily)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from fnmatch import fnmatch
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("flows", "tasks", "schemas", "eval")  # what pyproject.toml installs
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


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
    core = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
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


def test_every_data_file_of_the_packages_is_installed() -> None:
    """A non-editable install copies a package's non-Python files (but its notes) only if package-data names them."""
    globs = [g for patterns in PYPROJECT["tool"]["setuptools"]["package-data"].values() for g in patterns]
    data = [path for package in PACKAGES for path in (ROOT / package).rglob("*")
            if path.is_file() and path.suffix not in (".py", ".pyc", ".md") and "__pycache__" not in path.parts]
    assert any(path.name == "report.html.j2" for path in data)
    missing = [str(path.relative_to(ROOT)) for path in data if not any(fnmatch(path.name, g) for g in globs)]
    assert not missing, f"not in [tool.setuptools.package-data] of pyproject.toml: {missing}"
