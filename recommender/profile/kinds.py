"""The kind of every profile field, read from :class:`~recommender.profile.model.FirmProfile`
(never redeclared): what a column holds when profiles become frames and criteria name fields.

``number`` and ``bool`` columns are float64 arrays with NaN for unknown; ``date`` is
datetime64; ``code`` and ``category`` are strings (``code`` matches by prefix); ``set`` is the
certification list. The derived facts' kinds are added in :mod:`recommender.facts.fields`.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Literal, get_args, get_origin

from recommender.profile.model import FirmProfile

Kind = Literal["text", "code", "category", "date", "bool", "number", "set"]

_TEXT = {"firm_id", "name", "credit_code", "business_scope"}
_CODE = {"region_code", "industry_code"}


def base_types(annotation: object) -> set[object]:
    """Every concrete type inside Optional / Union / Annotated wrappers."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return base_types(get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(base_types(a) for a in get_args(annotation)))
    if origin is not None:
        return {origin}
    return {annotation}


def _kind_of(name: str, annotation: object) -> Kind:
    if name in _TEXT:
        return "text"
    if name in _CODE:
        return "code"
    found = base_types(annotation) - {type(None)}
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

PROFILE_CATEGORY_VALUES: dict[str, tuple[str, ...]] = {
    name: tuple(str(v) for a in get_args(info.annotation) if get_origin(a) is Literal for v in get_args(a))
    for name, info in FirmProfile.model_fields.items() if PROFILE_KINDS[name] == "category"
}
"""The values a category field of the profile may take."""
