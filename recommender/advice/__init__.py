"""What a firm can do: what it takes to qualify, the levers it can move, pathways through
several policies, and the next questions worth answering.

The names below are the package's public surface, imported lazily (PEP 562): importing
the package loads a module only when one of its names is first used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.advice.explain import explain_firm
    from recommender.advice.levers import field_words

_EXPORTS: dict[str, str] = {
    "explain_firm": "explain",
    "field_words": "levers",
}
__all__ = [
    "explain_firm", "field_words"
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
