"""SPEC §3 derived facts as numpy arrays, computed from an evaluation frame's cached columns.

The product's only implementation of the facts (``derived.add_derived`` is their DataFrame
form); a test holds them equal, bit for bit, to an independent frame-wide formulation kept
as an oracle under ``tests/``. No pandas: categories are small integer
codes into a label tuple, per-code facts (industry group, manufacturer, certification flags)
are decided once per *distinct* code and then taken, and the size class is a table lookup by
group. A frame of one firm costs a few dozen small numpy calls; a million firms a few
vectorised passes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from recommender import tristate as ts
from recommender.derived import (SMALL_LOW_PROFIT_MAX_ASSETS, SMALL_LOW_PROFIT_MAX_EMPLOYEES,
                                 SMALL_LOW_PROFIT_MAX_TAXABLE_INCOME, industry_group)
from recommender.fields import CERT_COLUMNS
from recommender.reference import ReferenceTables

if TYPE_CHECKING:
    from recommender.evalframe import EvalFrame

SIZE_LABELS = ("large", "medium", "small", "micro")
_TIERS = SIZE_LABELS[:3]
_DAYS_PER_YEAR = 365.2425
_NS_PER_DAY = 86_400 * 10**9
_SLP = (("taxable_income", SMALL_LOW_PROFIT_MAX_TAXABLE_INCOME), ("employees", SMALL_LOW_PROFIT_MAX_EMPLOYEES),
        ("total_assets", SMALL_LOW_PROFIT_MAX_ASSETS))
RATIOS = {
    "rd_intensity": ("rd_expense", "revenue"),
    "rd_intensity_3y": ("rd_expense_3y", "revenue_3y"),
    "tech_staff_ratio": ("tech_staff", "employees"),
    "rd_staff_ratio": ("rd_staff", "employees"),
}
NUMERIC_FACTS = ("age_years", "manufacturer", *RATIOS, "revenue_growth", "small_low_profit",
                 *CERT_COLUMNS.values())
CATEGORY_FACTS = ("industry_group", "size_class")
DERIVED_COLUMNS = ("industry_group", "size_class", "age_years", "manufacturer", *RATIOS, "revenue_growth",
                   "small_low_profit", *CERT_COLUMNS.values())
"""Derived columns in the order :func:`recommender.derived.add_derived` appends them."""


class _SizeTable:
    """Per reference tables: group labels and, per tier and indicator, each group's bound."""

    def __init__(self, ref: ReferenceTables) -> None:
        std = ref.size_standard
        named = [g for g in dict.fromkeys(std["mapping"].values()) if g is not None and g not in std["groups"]]
        self.groups: tuple[str, ...] = (*std["groups"], *named)   # a mapped group without bounds: none apply
        self.fields: dict[str, str] = dict(std["indicator_fields"])
        specs = [std["groups"].get(g, {}) for g in self.groups]
        # bounds[tier][sym]: float array over group index, NaN where the group has no bound;
        # one extra trailing NaN slot for "no group" (index -1).
        self.bounds = {tier: {sym: np.array([float(spec[tier][sym]) if sym in spec.get(tier, {}) else np.nan
                                             for spec in specs] + [np.nan])
                              for sym in self.fields} for tier in _TIERS}
        self._group_of: dict[str, int] = {}
        self._index = {g: i for i, g in enumerate(self.groups)}
        self._ref = ref

    def group_index(self, code: str) -> int:
        """Index of the code's SME group in ``groups``, -1 when none (as ``industry_group``)."""
        if code not in self._group_of:
            g = industry_group(code, self._ref)
            self._group_of[code] = -1 if g is None else self._index[g]
        return self._group_of[code]


_TABLES: dict[int, tuple[ReferenceTables, _SizeTable]] = {}


def size_table(ref: ReferenceTables) -> _SizeTable:
    hit = _TABLES.get(id(ref))
    if hit is None or hit[0] is not ref:
        hit = _TABLES[id(ref)] = (ref, _SizeTable(ref))
    return hit[1]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = num / den
    out[~np.isfinite(out)] = np.nan
    return out


def group_codes(frame: EvalFrame) -> np.ndarray:
    """SME-group index per row (into ``size_table(ref).groups``), -1 when unknown."""
    table = size_table(frame.ref)
    codes, uniques = frame.factorized("industry_code")
    lut = np.array([table.group_index(str(u)) for u in uniques] + [-1], dtype=np.intp)
    return lut[codes]


def size_codes(frame: EvalFrame, groups: np.ndarray) -> np.ndarray:
    """Size class per row as an index into :data:`SIZE_LABELS`, -1 when unknown
    (top-down by tier, with the standard's and/or logic; an unknown at a tier leaves it null)."""
    table = size_table(frame.ref)
    n = frame.n
    values = {sym: frame.num(col) for sym, col in table.fields.items()}
    known = {sym: ~np.isnan(v) for sym, v in values.items()}
    out = np.full(n, -1, dtype=np.intp)
    undecided = groups >= 0
    for k, tier in enumerate(_TIERS):
        parts = []
        for sym, v in values.items():
            bound = table.bounds[tier][sym][groups]
            used = ~np.isnan(bound)
            with np.errstate(invalid="ignore"):   # where used and known, bound is a number
                part = ts.from_bool(np.where(used & known[sym], v >= bound, True), known[sym] | ~used)
            parts.append(part)
        t = ts.all_of(parts, n)
        out[undecided & (t == ts.MET)] = k
        undecided = undecided & (t == ts.NOT_MET)
    out[undecided] = len(_TIERS)
    return out


def age_years(frame: EvalFrame) -> np.ndarray:
    est = frame.datetimes("established_on")
    ns = est.view(np.int64)
    nat = np.isnat(est)
    as_of_ns = np.datetime64(frame.as_of, "ns").astype(np.int64)
    days = ((as_of_ns - ns) // _NS_PER_DAY).astype("float64")
    days[nat] = np.nan
    return np.round(days / _DAYS_PER_YEAR, 4)


def manufacturer(frame: EvalFrame) -> np.ndarray:
    codes, uniques = frame.factorized("industry_code")
    lut = np.array([float(str(u)[:1] == "C") for u in uniques] + [np.nan])
    return lut[codes]


def small_low_profit(frame: EvalFrame) -> np.ndarray:
    parts = []
    for col, bound in _SLP:
        v = frame.num(col)
        with np.errstate(invalid="ignore"):
            parts.append(ts.from_bool(v <= bound, ~np.isnan(v)))
    slp = ts.all_of(parts, frame.n)
    return np.where(slp == ts.UNKNOWN, np.nan, (slp == ts.MET).astype("float64"))


def cert_flags(frame: EvalFrame, column: str) -> np.ndarray:
    cert = column[len("cert_"):]
    codes, uniques = frame.factorized("certifications")
    lut = np.array([float(cert in str(u).split(";")) for u in uniques] + [np.nan])
    return lut[codes]


def numeric_fact(frame: EvalFrame, name: str) -> np.ndarray:
    """One numeric derived fact (float64, NaN unknown)."""
    if name == "age_years":
        return age_years(frame)
    if name == "manufacturer":
        return manufacturer(frame)
    if name in RATIOS:
        num, den = RATIOS[name]
        return _ratio(frame.num(num), frame.num(den))
    if name == "revenue_growth":
        return _ratio(frame.num("revenue") - frame.num("revenue_prev"), frame.num("revenue_prev"))
    if name == "small_low_profit":
        return small_low_profit(frame)
    return cert_flags(frame, name)


def category_fact(frame: EvalFrame, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """``(index per row, labels)`` of ``industry_group`` or ``size_class``; index -1 unknown."""
    groups = frame.memo(("derived", "groups"), lambda: group_codes(frame))
    if name == "industry_group":
        return groups, size_table(frame.ref).groups
    return frame.memo(("derived", "size"), lambda: size_codes(frame, groups)), SIZE_LABELS
