"""The policy rules: criteria nodes (each with its array and its one-firm evaluation), the
operator table, point scoring, benefit formulas, the catalog and its parser, windows,
search and policy views.

The names below are the package's public surface, imported lazily (PEP 562): importing
the package loads a module only when one of its names is first used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.rules.catalog import (Catalog, Exclusion, FAMILIES, Family, Policy,
                                           UniqueKeyLoader, check_relations, load_catalog,
                                           parse_policy)
    from recommender.rules.composites import AllOf, AnyOf, Not
    from recommender.rules.criteria import AsOfWindow, Compare, Declaration, Holds, Membership, Tiered
    from recommender.rules.node import Criterion, OneFirm
    from recommender.rules.operators import LOWER_BOUND_OPS, OPS, format_value
    from recommender.rules.policy_view import PolicyQuery, policy_detail, policy_summary, search_policies
    from recommender.rules.scoring import Indicator, Score
    from recommender.rules.search import SearchIndex
    from recommender.rules.windows import window_status, window_table

_EXPORTS: dict[str, str] = {
    "AllOf": "composites",
    "AnyOf": "composites",
    "AsOfWindow": "criteria",
    "Catalog": "catalog",
    "Compare": "criteria",
    "Criterion": "node",
    "Declaration": "criteria",
    "Exclusion": "catalog",
    "FAMILIES": "catalog",
    "Family": "catalog",
    "Holds": "criteria",
    "Indicator": "scoring",
    "LOWER_BOUND_OPS": "operators",
    "Membership": "criteria",
    "Not": "composites",
    "OPS": "operators",
    "OneFirm": "node",
    "Policy": "catalog",
    "PolicyQuery": "policy_view",
    "Score": "scoring",
    "SearchIndex": "search",
    "Tiered": "criteria",
    "UniqueKeyLoader": "catalog",
    "check_relations": "catalog",
    "format_value": "operators",
    "load_catalog": "catalog",
    "parse_policy": "catalog",
    "policy_detail": "policy_view",
    "policy_summary": "policy_view",
    "search_policies": "policy_view",
    "window_status": "windows",
    "window_table": "windows",
}
__all__ = [
    "AllOf", "AnyOf", "AsOfWindow", "Catalog", "Compare", "Criterion", "Declaration", "Exclusion",
    "FAMILIES", "Family", "Holds", "Indicator", "LOWER_BOUND_OPS", "Membership", "Not", "OPS",
    "OneFirm", "Policy", "PolicyQuery", "Score", "SearchIndex", "Tiered", "UniqueKeyLoader",
    "check_relations", "format_value", "load_catalog", "parse_policy", "policy_detail",
    "policy_summary", "search_policies", "window_status", "window_table"
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
