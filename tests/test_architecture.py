"""Architecture rules: layers, exported names, no code in data/."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import recommender

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"api": 3, "recommender": 2, "features": 1, "models": 1}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def test_imports_flow_api_recommender_features_models() -> None:
    """Same rule as the import-linter contract in pyproject.toml, checked without the tool."""
    violations = []
    for package, level in LAYERS.items():
        for path in (ROOT / package).rglob("*.py"):
            for target in _imports(path) & set(LAYERS):
                if target != package and LAYERS[target] >= level:
                    violations.append(f"{path.relative_to(ROOT)} imports {target}")
    assert violations == []


def test_no_code_in_data() -> None:
    assert sorted(str(p.relative_to(ROOT)) for p in (ROOT / "data").rglob("*.py")) == []


def test_public_facade_exports_exist() -> None:
    missing = [name for name in recommender.__all__ if not hasattr(recommender, name)]
    assert missing == []
    assert recommender.__all__ == sorted(recommender.__all__)


PACKAGES = ("profile", "facts", "rules", "engine", "advice", "ranking", "matching", "bulk", "learning", "cli",
            "reform", "alerts")


@pytest.mark.parametrize("name", ["recommender", *(f"recommender.{p}" for p in PACKAGES)])
def test_every_package_names_its_surface(name: str) -> None:
    """``__all__`` lists exactly the lazily exported names, each of which resolves to the
    object its module defines."""
    package = importlib.import_module(name)
    exports = package._EXPORTS
    assert package.__all__ == sorted(exports)
    for export, module in exports.items():
        target = module if "." in module else f"{name}.{module}"
        assert getattr(package, export) is getattr(importlib.import_module(target), export), export


def _product_modules() -> list[Path]:
    return sorted([*(ROOT / "recommender").rglob("*.py"), *(ROOT / "api").rglob("*.py")])


def test_no_private_name_crosses_a_package() -> None:
    """A module imports another package's names only through that package's surface, and
    never a ``_private`` name of it."""
    found = []
    for path in _product_modules():
        parts = path.relative_to(ROOT).with_suffix("").parts
        own = parts[1] if parts[0] == "recommender" and len(parts) > 2 else None
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("recommender."):
                package = node.module.split(".")[1]
                if package != own and any(a.name.startswith("_") for a in node.names):
                    found.append(f"{path.relative_to(ROOT)}: {node.module}")
    assert found == []


def test_no_module_over_500_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _product_modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert long == {}


def test_tests_do_not_import_other_test_modules() -> None:
    """Shared strategies live in ``tests/strategies.py`` and helpers in ``*_kit.py`` modules."""
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                leaf = node.module.split(".")[-1]
                if leaf.startswith("test_"):
                    found.append(f"{path.relative_to(ROOT)}: {node.module}")
    assert found == []


def test_no_eval_or_exec() -> None:
    hits = []
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec"):
                    hits.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert hits == []
