"""Architecture rules: layers, exported names, no code in data/."""

from __future__ import annotations

import ast
from pathlib import Path

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


def test_no_eval_or_exec() -> None:
    hits = []
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec"):
                    hits.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert hits == []
