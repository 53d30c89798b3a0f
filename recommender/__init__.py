"""Enterprise assistance matching: firm profiles → explainable eligibility → ranked policies.

The public facade; everything else is an implementation detail of its module.
"""

from recommender.catalog import Catalog, Policy, load_catalog
from recommender.eligibility import Eligibility, evaluate_catalog, explain_row
from recommender.errors import (CatalogError, InputFileError, ProfileError, RecommenderError,
                                UnknownPolicyError)
from recommender.frame import profiles_to_frame
from recommender.matching import MatchOptions, match_frame
from recommender.profile import FirmProfile, parse_profile
from recommender.reference import load_reference

__all__ = [
    "Catalog", "CatalogError", "Eligibility", "FirmProfile", "InputFileError", "MatchOptions",
    "Policy", "ProfileError", "RecommenderError", "UnknownPolicyError", "evaluate_catalog",
    "explain_row", "load_catalog", "load_reference", "match_frame", "parse_profile",
    "profiles_to_frame",
]
