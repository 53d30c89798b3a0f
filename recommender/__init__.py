"""Enterprise assistance matching: firm profiles → explainable eligibility → ranked policies.

The public facade, and the only door the service (``api``) comes through: each name is
imported from its package when first used (PEP 562), so ``import recommender`` costs nothing
and the service loads only what it serves. Packages, highest layer first (import-linter
contracts in ``pyproject.toml``): ``cli`` > ``learning`` | ``bulk`` | ``store`` > ``matching`` >
``ranking`` | ``advice`` > ``engine`` > ``rules`` > ``facts`` > ``profile`` > core (``errors``,
``settings``, ``tristate``, ``held``, ``safe_cells``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.advice import field_words
    from recommender.alerts import (AlertsConfig, SubscriptionRequest, by_unsubscribe_link, interest_issues, outreach,
                                    renew, run_alerts, subscribe, subscribe_registry, unsubscribe)
    from recommender.bulk import run_registry
    from recommender.engine import Eligibility, evaluate_catalog, explain_row
    from recommender.fairness import cached_fairness
    from recommender.errors import (CatalogError, InputFileError, ModelArtifactError, NotFittedError,
                                    ProfileError, RecommenderError, UnknownPolicyError)
    from recommender.matching import (Cover, MatchOptions, Matcher, RankBy, handoff_csv, handoff_xlsx,
                                      load_matcher, match_frame)
    from recommender.profile import (CERTIFICATION_LABELS, CHOICE_LABELS, FIELD_HINTS, FIELD_LABELS, MAX_LIMIT,
                                     MAX_QUERY_CHARS, FirmProfile, ReferenceTables, districts_of,
                                     find_industries, find_regions, load_json, load_reference, parse_profile,
                                     profile_issues, profiles_to_frame, read_registry)
    from recommender.rules import (Catalog, Family, Policy, PolicyQuery, load_catalog, policy_detail,
                                   policy_summary, search_policies)
    from recommender.safe_cells import neutralise
    from recommender.settings import ROLES, Role, Settings
    from recommender.store import JobRecord, OutcomeRecord, Store, StoreUnavailable, database_down, open_store
    from recommender.reform import (REFORM_FIRMS_CSV, file_sha256, is_reform_job, plan_reform, reform_cache_key,
                                    reform_result_dir, run_saved_reform, save_reform_request, saved_reform_request,
                                    saved_reform_summary)
    from recommender.store import Subscriptions

_EXPORTS: dict[str, str] = {
    "AlertsConfig": "recommender.alerts",
    "CERTIFICATION_LABELS": "recommender.profile",
    "CHOICE_LABELS": "recommender.profile",
    "Catalog": "recommender.rules",
    "CatalogError": "recommender.errors",
    "Cover": "recommender.matching",
    "Eligibility": "recommender.engine",
    "FIELD_HINTS": "recommender.profile",
    "FIELD_LABELS": "recommender.profile",
    "Family": "recommender.rules",
    "FirmProfile": "recommender.profile",
    "InputFileError": "recommender.errors",
    "JobRecord": "recommender.store",
    "MAX_LIMIT": "recommender.profile",
    "MAX_QUERY_CHARS": "recommender.profile",
    "MatchOptions": "recommender.matching",
    "Matcher": "recommender.matching",
    "ModelArtifactError": "recommender.errors",
    "NotFittedError": "recommender.errors",
    "OutcomeRecord": "recommender.store",
    "Policy": "recommender.rules",
    "PolicyQuery": "recommender.rules",
    "ProfileError": "recommender.errors",
    "REFORM_FIRMS_CSV": "recommender.reform",
    "ROLES": "recommender.settings",
    "RankBy": "recommender.matching",
    "RecommenderError": "recommender.errors",
    "ReferenceTables": "recommender.profile",
    "Role": "recommender.settings",
    "Settings": "recommender.settings",
    "Store": "recommender.store",
    "StoreUnavailable": "recommender.store",
    "SubscriptionRequest": "recommender.alerts",
    "Subscriptions": "recommender.store",
    "UnknownPolicyError": "recommender.errors",
    "cached_fairness": "recommender.fairness",
    "database_down": "recommender.store",
    "districts_of": "recommender.profile",
    "evaluate_catalog": "recommender.engine",
    "explain_row": "recommender.engine",
    "field_words": "recommender.advice",
    "file_sha256": "recommender.reform",
    "find_industries": "recommender.profile",
    "find_regions": "recommender.profile",
    "handoff_csv": "recommender.matching",
    "handoff_xlsx": "recommender.matching",
    "is_reform_job": "recommender.reform",
    "interest_issues": "recommender.alerts",
    "load_catalog": "recommender.rules",
    "load_json": "recommender.profile",
    "load_matcher": "recommender.matching",
    "load_reference": "recommender.profile",
    "match_frame": "recommender.matching",
    "neutralise": "recommender.safe_cells",
    "open_store": "recommender.store",
    "outreach": "recommender.alerts",
    "parse_profile": "recommender.profile",
    "plan_reform": "recommender.reform",
    "policy_detail": "recommender.rules",
    "policy_summary": "recommender.rules",
    "profile_issues": "recommender.profile",
    "profiles_to_frame": "recommender.profile",
    "read_registry": "recommender.profile",
    "reform_cache_key": "recommender.reform",
    "reform_result_dir": "recommender.reform",
    "renew": "recommender.alerts",
    "run_alerts": "recommender.alerts",
    "run_registry": "recommender.bulk",
    "run_saved_reform": "recommender.reform",
    "save_reform_request": "recommender.reform",
    "saved_reform_request": "recommender.reform",
    "saved_reform_summary": "recommender.reform",
    "search_policies": "recommender.rules",
    "subscribe": "recommender.alerts",
    "subscribe_registry": "recommender.alerts",
    "unsubscribe": "recommender.alerts",
    "by_unsubscribe_link": "recommender.alerts",
}
__all__ = [
    "AlertsConfig",
    "CERTIFICATION_LABELS", "CHOICE_LABELS", "Catalog", "CatalogError", "Cover", "Eligibility",
    "FIELD_HINTS", "FIELD_LABELS", "Family", "FirmProfile", "InputFileError", "JobRecord", "MAX_LIMIT",
    "MAX_QUERY_CHARS", "MatchOptions", "Matcher", "ModelArtifactError", "NotFittedError",
    "OutcomeRecord", "Policy", "PolicyQuery", "ProfileError", "ROLES", "RankBy", "RecommenderError",
    "ReferenceTables", "Role", "Settings", "Store", "StoreUnavailable",
    "SubscriptionRequest", "Subscriptions",
    "UnknownPolicyError",
    "cached_fairness",
    "database_down", "districts_of", "evaluate_catalog", "explain_row", "field_words",
    "find_industries", "find_regions", "handoff_csv", "handoff_xlsx",
    "interest_issues",
    "load_catalog", "load_json",
    "load_matcher", "load_reference", "match_frame", "neutralise", "open_store",
    "outreach",
    "parse_profile",
    "policy_detail", "policy_summary", "profile_issues", "profiles_to_frame", "read_registry",
    "renew", "run_alerts",
    "run_registry", "search_policies",
    "subscribe", "subscribe_registry", "unsubscribe", "by_unsubscribe_link",
]
__all__ += ["REFORM_FIRMS_CSV", "file_sha256", "is_reform_job", "plan_reform", "reform_cache_key",  # issue 22
            "reform_result_dir", "run_saved_reform", "save_reform_request", "saved_reform_request",
            "saved_reform_summary"]
__all__.sort()


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
