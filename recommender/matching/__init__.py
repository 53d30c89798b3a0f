"""Matching firms to policies: SPEC §5 results for a frame or one firm, the runtime bundle the
CLI and API load, and screening.

The names below are the package's public surface, imported lazily (PEP 562): importing
the package loads a module only when one of its names is first used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.matching.handoff import Cover, handoff_csv, handoff_xlsx
    from recommender.matching.results import MatchOptions, Ranker, match_frame
    from recommender.matching.runtime import Matcher, RankBy, load_matcher, load_ranker
    from recommender.matching.screening import screen_frame

_EXPORTS: dict[str, str] = {
    "Cover": "handoff",
    "handoff_csv": "handoff",
    "handoff_xlsx": "handoff",
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
    "Cover", "MatchOptions", "Matcher", "RankBy", "Ranker", "handoff_csv", "handoff_xlsx", "load_matcher",
    "load_ranker", "match_frame", "screen_frame"
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
