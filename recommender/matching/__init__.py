"""Matching firms to policies: SPEC §5 results for a frame or one firm, the runtime bundle the
CLI and API load, and screening.

The names below are the package's public surface, imported lazily (PEP 562): importing
the package loads a module only when one of its names is first used."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recommender.matching.results import MatchOptions, Ranker, match_frame
    from recommender.matching.runtime import Matcher, RankBy, load_matcher, load_ranker
    from recommender.matching.screening import screen_frame

_EXPORTS: dict[str, str] = {
    "MatchOptions": "results",
    "Matcher": "runtime",
    "RankBy": "runtime",
    "Ranker": "results",
    "load_matcher": "runtime",
    "load_ranker": "runtime",
    "match_frame": "results",
    "screen_frame": "screening",
}
__all__ = [
    "MatchOptions", "Matcher", "RankBy", "Ranker", "load_matcher", "load_ranker", "match_frame",
    "screen_frame"
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
