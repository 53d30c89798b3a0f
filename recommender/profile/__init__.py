"""The firm profile (SPEC §2): the model, its field kinds, reference tables, credit codes, and
the readers of profiles from JSON and of registries (CSV, Parquet, XLSX).

The names below are the package's public surface, imported lazily (PEP 562): importing
the package loads a module only when one of its names is first used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.profile.frame import coerce_frame, profile_arrays, profile_values, profiles_to_frame
    from recommender.profile.inputs import load_json, read_profiles
    from recommender.profile.labels import CHOICE_LABELS, FIELD_HINTS, FIELD_LABELS
    from recommender.profile.lookup import MAX_LIMIT, MAX_QUERY_CHARS, districts_of, find_industries, find_regions
    from recommender.profile.kinds import Kind, PROFILE_CATEGORY_VALUES, PROFILE_KINDS, base_types
    from recommender.profile.model import (CERTIFICATIONS, CERTIFICATION_LABELS, Certification,
                                           FirmProfile, IsoDate, PROFILE_FIELDS, parse_profile,
                                           profile_issues)
    from recommender.profile.reference import ReferenceTables, load_reference
    from recommender.profile.registry import (SUPPORTED_SUFFIXES, check_header, csv_header,
                                              iter_raw_chunks, read_registry)
    from recommender.profile.uscc import ALPHABET
    from recommender.profile.validation import REJECT_COLUMNS, drop_duplicate_ids, validate_chunk
    from recommender.profile.validation import Chunk
    from recommender.profile.validation import YES_WORDS

_EXPORTS: dict[str, str] = {
    "ALPHABET": "uscc",
    "CERTIFICATIONS": "model",
    "Chunk": "validation",
    "CERTIFICATION_LABELS": "model",
    "CHOICE_LABELS": "labels",
    "Certification": "model",
    "FIELD_HINTS": "labels",
    "FIELD_LABELS": "labels",
    "FirmProfile": "model",
    "IsoDate": "model",
    "Kind": "kinds",
    "MAX_LIMIT": "lookup",
    "MAX_QUERY_CHARS": "lookup",
    "PROFILE_CATEGORY_VALUES": "kinds",
    "PROFILE_FIELDS": "model",
    "PROFILE_KINDS": "kinds",
    "REJECT_COLUMNS": "validation",
    "ReferenceTables": "reference",
    "SUPPORTED_SUFFIXES": "registry",
    "base_types": "kinds",
    "check_header": "registry",
    "coerce_frame": "frame",
    "csv_header": "registry",
    "districts_of": "lookup",
    "drop_duplicate_ids": "validation",
    "find_industries": "lookup",
    "find_regions": "lookup",
    "iter_raw_chunks": "registry",
    "load_json": "inputs",
    "load_reference": "reference",
    "parse_profile": "model",
    "profile_arrays": "frame",
    "profile_issues": "model",
    "profile_values": "frame",
    "profiles_to_frame": "frame",
    "read_profiles": "inputs",
    "read_registry": "registry",
    "validate_chunk": "validation",
    "YES_WORDS": "validation",
}
__all__ = [
    "ALPHABET", "CERTIFICATIONS", "CERTIFICATION_LABELS", "CHOICE_LABELS", "Certification", "Chunk",
    "FIELD_HINTS", "FIELD_LABELS", "FirmProfile", "IsoDate", "Kind", "MAX_LIMIT", "MAX_QUERY_CHARS",
    "PROFILE_CATEGORY_VALUES", "PROFILE_FIELDS", "PROFILE_KINDS", "REJECT_COLUMNS", "ReferenceTables",
    "SUPPORTED_SUFFIXES", "YES_WORDS", "base_types", "check_header", "coerce_frame", "csv_header", "districts_of",
    "drop_duplicate_ids", "find_industries", "find_regions", "iter_raw_chunks", "load_json",
    "load_reference", "parse_profile", "profile_arrays", "profile_issues", "profile_values",
    "profiles_to_frame", "read_profiles", "read_registry", "validate_chunk"
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
