"""The ``recommender`` command line (SPEC §6): thin typer commands over the packages.

The names below are the package's public surface, imported lazily (PEP 562): importing
the package loads a module only when one of its names is first used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.cli.main import app

_EXPORTS: dict[str, str] = {
    "app": "main",
}
__all__ = [
    "app"
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
