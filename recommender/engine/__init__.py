"""Evaluating a catalog: eligibility over a frame, the compiled one-firm plan, relations
between policies, the catalog check, the hand-written cases read as profiles and the
regression snapshot of known firms' results.

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
    from recommender.engine.policy_cases import PolicyCase, case_profile, read_cases
    from recommender.engine.regression import (SNAPSHOT_DATES, Move, cell, compute_snapshot,
                                               moves_by_entry, read_snapshot, render_snapshot,
                                               snapshot_moves, update_snapshot)

_EXPORTS: dict[str, str] = {
    "Eligibility": "eligibility",
    "MARGIN_CLIP": "eligibility",
    "Move": "regression",
    "PolicyCase": "policy_cases",
    "PolicyOutcome": "eligibility",
    "RelationView": "relations",
    "SNAPSHOT_DATES": "regression",
    "VERDICTS": "eligibility",
    "benefit_matrix": "eligibility",
    "case_profile": "policy_cases",
    "cell": "regression",
    "check_catalog": "catalog_check",
    "snapshot_moves": "regression",
    "compute_snapshot": "regression",
    "evaluate_catalog": "eligibility",
    "explain_row": "eligibility",
    "grantor_of": "relations",
    "held_titles": "relations",
    "match_relations": "relations",
    "moves_by_entry": "regression",
    "read_cases": "policy_cases",
    "read_snapshot": "regression",
    "relation_view": "relations",
    "render": "catalog_check",
    "render_snapshot": "regression",
    "support_masks": "eligibility",
    "total_breakdown": "relations",
    "totals": "relations",
    "update_snapshot": "regression",
}
__all__ = [
    "Eligibility", "MARGIN_CLIP", "Move", "PolicyCase", "PolicyOutcome", "RelationView",
    "SNAPSHOT_DATES", "VERDICTS", "benefit_matrix", "case_profile", "cell", "check_catalog",
    "compute_snapshot", "evaluate_catalog", "explain_row", "grantor_of", "held_titles",
    "match_relations", "moves_by_entry", "read_cases", "read_snapshot", "relation_view", "render",
    "render_snapshot", "snapshot_moves", "support_masks", "total_breakdown", "totals", "update_snapshot"
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
