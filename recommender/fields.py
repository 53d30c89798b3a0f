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

from recommender.profile import CERTIFICATIONS, FirmProfile

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

DERIVED_KINDS: dict[str, Kind] = {
    "size_class": "category",
    "industry_group": "category",
    "age_years": "number",
    "rd_intensity": "number",
    "rd_intensity_3y": "number",
    "tech_staff_ratio": "number",
    "rd_staff_ratio": "number",
    "revenue_growth": "number",
    "small_low_profit": "bool",
    "manufacturer": "bool",
}
"""SPEC §3 derived facts (plus ``manufacturer``: industry section C), returned under ``derived``."""

CERT_COLUMNS: dict[str, str] = {c: f"cert_{c}" for c in CERTIFICATIONS}

FIELD_KINDS: dict[str, Kind] = {
    **PROFILE_KINDS,
    **DERIVED_KINDS,
    **{col: "bool" for col in CERT_COLUMNS.values()},
}

CATEGORY_VALUES: dict[str, tuple[str, ...]] = {
    name: tuple(str(v) for a in get_args(info.annotation) if get_origin(a) is Literal for v in get_args(a))
    for name, info in FirmProfile.model_fields.items() if PROFILE_KINDS[name] == "category"
}
CATEGORY_VALUES["size_class"] = ("large", "medium", "small", "micro")

DERIVED_SOURCES: dict[str, tuple[str, ...]] = {
    "size_class": ("industry_code", "employees", "revenue", "total_assets"),
    "industry_group": ("industry_code",),
    "age_years": ("established_on",),
    "rd_intensity": ("rd_expense", "revenue"),
    "rd_intensity_3y": ("rd_expense_3y", "revenue_3y"),
    "tech_staff_ratio": ("tech_staff", "employees"),
    "rd_staff_ratio": ("rd_staff", "employees"),
    "revenue_growth": ("revenue", "revenue_prev"),
    "small_low_profit": ("taxable_income", "employees", "total_assets"),
    "manufacturer": ("industry_code",),
    **{col: ("certifications",) for col in CERT_COLUMNS.values()},
}
"""Profile fields a derived fact is computed from: what to ask for when the fact is unknown."""


def source_fields(name: str) -> tuple[str, ...]:
    """The profile fields behind a field name (itself for a profile field)."""
    return DERIVED_SOURCES.get(name, (name,))
