"""Evaluating a catalog: eligibility over a frame, the compiled one-firm plan, relations
between policies, and the catalog check.

The names below are the package's public surface, imported lazily (PEP 562): importing
the package loads a module only when one of its names is first used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.engine.catalog_check import check_catalog, render
    from recommender.engine.eligibility import (Eligibility, MARGIN_CLIP, PolicyOutcome, VERDICTS,
                                                benefit_matrix, evaluate_catalog, explain_row,
                                                support_masks)
    from recommender.engine.relations import (RelationView, grantor_of, held_titles,
                                              match_relations, relation_view, total_breakdown,
                                              totals)

_EXPORTS: dict[str, str] = {
    "Eligibility": "eligibility",
    "MARGIN_CLIP": "eligibility",
    "PolicyOutcome": "eligibility",
    "RelationView": "relations",
    "VERDICTS": "eligibility",
    "benefit_matrix": "eligibility",
    "check_catalog": "catalog_check",
    "evaluate_catalog": "eligibility",
    "explain_row": "eligibility",
    "grantor_of": "relations",
    "held_titles": "relations",
    "match_relations": "relations",
    "relation_view": "relations",
    "render": "catalog_check",
    "support_masks": "eligibility",
    "total_breakdown": "relations",
    "totals": "relations",
}
__all__ = [
    "Eligibility", "MARGIN_CLIP", "PolicyOutcome", "RelationView", "VERDICTS", "benefit_matrix",
    "check_catalog", "evaluate_catalog", "explain_row", "grantor_of", "held_titles", "match_relations",
    "relation_view", "render", "support_masks", "total_breakdown", "totals"
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
