"""Package surfaces imported on first use (PEP 562): one implementation for every package's
``__init__``, which only lists its exports."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def surface(package: str, exports: Mapping[str, str],
            namespace: dict[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: a name of ``exports`` is imported from its
    module (a submodule of ``package``, or an absolute module path with dots) when first read,
    then kept in the package's ``namespace``."""

    def getattr_(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module if "." in module else f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return getattr_, dir_
