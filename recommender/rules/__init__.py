"""The policy rules: criteria nodes (each with its array and its one-firm evaluation), the
operator table, point scoring, benefit formulas, the catalog and its parser, windows,
search and policy views; catalog maintenance (catalogs read from a directory or a git
revision, the diff of two catalogs, what expires).

The names below are the package's public surface, imported lazily (PEP 562): importing
the package loads a module only when one of its names is first used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.rules.catalog import (Catalog, Exclusion, FAMILIES, Family, Policy,
                                           UniqueKeyLoader, check_relations, content_version,
                                           load_catalog, parse_policy, policy_files)
    from recommender.rules.catalog import build_catalog, read_policy_sources
    from recommender.rules.composites import AllOf, AnyOf, Not
    from recommender.rules.criteria import AsOfWindow, Compare, Declaration, Holds, Membership, Tiered
    from recommender.rules.node import Criterion, OneFirm
    from recommender.rules.operators import LOWER_BOUND_OPS, OPS, format_value
    from recommender.rules.policy_view import PolicyQuery, policy_detail, policy_summary, search_policies
    from recommender.rules.scoring import Indicator, Score
    from recommender.rules.search import SearchIndex
    from recommender.rules.windows import window_status, window_table
    from recommender.rules.catalog_diff import (WORDING, CatalogDiff, Change, PolicyDiff, diff_catalogs,
                                                diff_policy, diff_rows, summary_rows)
    from recommender.rules.catalog_source import (CATALOG_2022_REVISION, RawCatalog, git_toplevel, locate,
                                                  read_raw_catalog, read_revision, read_side)
    from recommender.rules.catalog_summary import readme_block, replace_block
    from recommender.rules.expiry import Expiry, ExpiryReport, expiring, successors_of

_EXPORTS: dict[str, str] = {
    "AllOf": "composites",
    "AnyOf": "composites",
    "AsOfWindow": "criteria",
    "CATALOG_2022_REVISION": "catalog_source",
    "Catalog": "catalog",
    "CatalogDiff": "catalog_diff",
    "Change": "catalog_diff",
    "Compare": "criteria",
    "Criterion": "node",
    "Declaration": "criteria",
    "Exclusion": "catalog",
    "Expiry": "expiry",
    "ExpiryReport": "expiry",
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
    "PolicyDiff": "catalog_diff",
    "PolicyQuery": "policy_view",
    "RawCatalog": "catalog_source",
    "Score": "scoring",
    "SearchIndex": "search",
    "Tiered": "criteria",
    "UniqueKeyLoader": "catalog",
    "WORDING": "catalog_diff",
    "build_catalog": "catalog",
    "check_relations": "catalog",
    "content_version": "catalog",
    "diff_catalogs": "catalog_diff",
    "diff_policy": "catalog_diff",
    "diff_rows": "catalog_diff",
    "expiring": "expiry",
    "format_value": "operators",
    "git_toplevel": "catalog_source",
    "load_catalog": "catalog",
    "locate": "catalog_source",
    "parse_policy": "catalog",
    "policy_detail": "policy_view",
    "policy_files": "catalog",
    "policy_summary": "policy_view",
    "read_policy_sources": "catalog",
    "read_raw_catalog": "catalog_source",
    "readme_block": "catalog_summary",
    "read_revision": "catalog_source",
    "read_side": "catalog_source",
    "replace_block": "catalog_summary",
    "search_policies": "policy_view",
    "successors_of": "expiry",
    "summary_rows": "catalog_diff",
    "window_status": "windows",
    "window_table": "windows",
}
__all__ = [
    "AllOf", "AnyOf", "AsOfWindow", "CATALOG_2022_REVISION", "Catalog", "CatalogDiff", "Change",
    "Compare", "Criterion", "Declaration", "Exclusion", "Expiry", "ExpiryReport", "FAMILIES",
    "Family", "Holds", "Indicator", "LOWER_BOUND_OPS", "Membership", "Not", "OPS", "OneFirm",
    "Policy", "PolicyDiff", "PolicyQuery", "RawCatalog", "Score", "SearchIndex", "Tiered",
    "UniqueKeyLoader", "WORDING", "build_catalog", "check_relations", "content_version", "diff_catalogs",
    "diff_policy", "diff_rows", "expiring", "format_value", "git_toplevel", "load_catalog",
    "locate", "parse_policy", "policy_detail", "policy_files", "policy_summary", "read_policy_sources", "read_raw_catalog",
    "read_revision", "read_side", "readme_block", "replace_block", "search_policies",
    "successors_of", "summary_rows", "window_status", "window_table"
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
