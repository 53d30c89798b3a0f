"""Training the ranker and the synthetic registries and histories it learns from.

The names below are the package's public surface, imported lazily (PEP 562): importing
the package loads a module only when one of its names is first used."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recommender.learning.synth import write_synthetic
    from recommender.learning.training import evaluate_model

_EXPORTS: dict[str, str] = {
    "evaluate_model": "training",
    "write_synthetic": "synth",
}
__all__ = [
    "evaluate_model", "write_synthetic"
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
