"""Ordering matches: the rule order, the pair table of features, the learned ranker and its
compiled trees.

The names below are the package's public surface, imported lazily (PEP 562): importing
the package loads a module only when one of its names is first used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.ranking.learned import INELIGIBLE_SCORE, LearnedRanker
    from recommender.ranking.pairs import (build_pairs, firm_row, margin_summary, pair_columns,
                                           policy_columns_of, policy_spans)
    from recommender.ranking.linear import LinearRanker
    from recommender.ranking.popularity import PopularityRanker
    from recommender.ranking.rules import RuleRanker, Scores, order_candidates

_EXPORTS: dict[str, str] = {
    "INELIGIBLE_SCORE": "learned",
    "LearnedRanker": "learned",
    "RuleRanker": "rules",
    "Scores": "rules",
    "build_pairs": "pairs",
    "firm_row": "pairs",
    "margin_summary": "pairs",
    "pair_columns": "pairs",
    "policy_spans": "pairs",
    "PopularityRanker": "popularity",
    "LinearRanker": "linear",
    "order_candidates": "rules",
    "policy_columns_of": "pairs",
}
__all__ = [
    "INELIGIBLE_SCORE", "LearnedRanker", "LinearRanker", "PopularityRanker", "RuleRanker", "Scores", "build_pairs",
    "firm_row", "margin_summary", "order_candidates", "pair_columns", "policy_columns_of", "policy_spans"
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
