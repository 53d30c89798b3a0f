"""Field registry: the kind of every column the criteria language may name.

Kinds are read from :class:`~recommender.profile.FirmProfile` (never redeclared) plus the
derived facts of SPEC §3. ``number`` and ``bool`` columns are float64 arrays with NaN for
unknown; ``date`` is datetime64; ``code`` and ``category`` are strings (``code`` matches by
prefix); ``set`` is the certification list, exposed as one ``cert_<name>`` bool per title.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Literal, get_args, get_origin

from recommender.facts import CERT_COLUMNS, FACTS, REPORTED, SIZE_LABELS
from recommender.profile import FirmProfile

Kind = Literal["text", "code", "category", "date", "bool", "number", "set"]

_TEXT = {"firm_id", "name", "credit_code", "business_scope"}
_CODE = {"region_code", "industry_code"}


def _base_types(annotation: object) -> set[object]:
    """Every concrete type inside Optional / Union / Annotated wrappers."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _base_types(get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_base_types(a) for a in get_args(annotation)))
    if origin is not None:
        return {origin}
    return {annotation}


def _kind_of(name: str, annotation: object) -> Kind:
    if name in _TEXT:
        return "text"
    if name in _CODE:
        return "code"
    found = _base_types(annotation) - {type(None)}
    if found == {list}:
        return "set"
    if found == {Literal}:
        return "category"
    if found == {dt.date}:
        return "date"
    if found == {bool}:
        return "bool"
    if found and found <= {int, float}:
        return "number"
    raise TypeError(f"no criteria kind for profile field {name!r}: {annotation!r}")


PROFILE_KINDS: dict[str, Kind] = {
    name: _kind_of(name, info.annotation) for name, info in FirmProfile.model_fields.items()
}

DERIVED_KINDS: dict[str, Kind] = {name: FACTS[name].kind for name in REPORTED}
"""SPEC §3 derived facts (plus ``manufacturer``: industry section C), returned under ``derived``."""

FIELD_KINDS: dict[str, Kind] = {
    **PROFILE_KINDS,
    **DERIVED_KINDS,
    **{col: "bool" for col in CERT_COLUMNS.values()},
}

CATEGORY_VALUES: dict[str, tuple[str, ...]] = {
    name: tuple(str(v) for a in get_args(info.annotation) if get_origin(a) is Literal for v in get_args(a))
    for name, info in FirmProfile.model_fields.items() if PROFILE_KINDS[name] == "category"
}
CATEGORY_VALUES["size_class"] = SIZE_LABELS

DERIVED_SOURCES: dict[str, tuple[str, ...]] = {name: fact.sources for name, fact in FACTS.items()}
"""Profile fields a derived fact is computed from: what to ask for when the fact is unknown."""


def source_fields(name: str) -> tuple[str, ...]:
    """The profile fields behind a field name (itself for a profile field)."""
    return DERIVED_SOURCES.get(name, (name,))
