"""The field registry: the kind of every column the criteria language may name — the profile's
fields (:mod:`recommender.profile.kinds`) and the derived facts (:data:`~recommender.facts.FACTS`),
with ``set`` fields exposed as one ``cert_<name>`` bool per title."""

from __future__ import annotations

from recommender.facts.declared import CERT_COLUMNS, FACTS, REPORTED
from recommender.facts.size import SIZE_LABELS
from recommender.profile import PROFILE_CATEGORY_VALUES, PROFILE_KINDS, Kind

DERIVED_KINDS: dict[str, Kind] = {name: FACTS[name].kind for name in REPORTED}
"""SPEC §3 derived facts (plus ``manufacturer``: industry section C), returned under ``derived``."""

FIELD_KINDS: dict[str, Kind] = {
    **PROFILE_KINDS,
    **DERIVED_KINDS,
    **{col: "bool" for col in CERT_COLUMNS.values()},
}

CATEGORY_VALUES: dict[str, tuple[str, ...]] = {**PROFILE_CATEGORY_VALUES, "size_class": SIZE_LABELS}
"""The values every category field (profile or derived) may take."""

DERIVED_SOURCES: dict[str, tuple[str, ...]] = {name: fact.sources for name, fact in FACTS.items()}
"""Profile fields a derived fact is computed from: what to ask for when the fact is unknown."""


def source_fields(name: str) -> tuple[str, ...]:
    """The profile fields behind a field name (itself for a profile field)."""
    return DERIVED_SOURCES.get(name, (name,))
