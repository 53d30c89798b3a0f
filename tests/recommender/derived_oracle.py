"""Test oracle: the derived facts (SPEC §3) written frame-wide with pandas/numpy, independently
of the array rules of :mod:`recommender.facts` (the product's implementation), so that a test can hold
the two equal bit for bit."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from recommender import tristate as ts
from recommender.facts import (SMALL_LOW_PROFIT_MAX_ASSETS, SMALL_LOW_PROFIT_MAX_EMPLOYEES,
                               SMALL_LOW_PROFIT_MAX_TAXABLE_INCOME, industry_group)
from recommender.facts.fields import CERT_COLUMNS
from recommender.profile.reference import ReferenceTables

_TIERS = ("large", "medium", "small")
_DAYS_PER_YEAR = 365.2425


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = num / den
    out[~np.isfinite(out)] = np.nan
    return out


def size_classes(groups: np.ndarray, values: dict[str, np.ndarray], ref: ReferenceTables) -> np.ndarray:
    """Size class per row (object array of str or None), top-down with and/or per §1.1.

    ``groups``: SME-standard group per row (object array, None when unknown); ``values``:
    float arrays of the standard's indicator fields, by field name.
    """
    std = ref.size_standard
    n = len(groups)
    indicators = {sym: values[col] for sym, col in std["indicator_fields"].items()}
    rows_of = {name: groups == name for name in std["groups"]}
    tiers: dict[str, np.ndarray] = {}
    for tier in _TIERS:
        thr = {sym: np.full(n, np.nan) for sym in indicators}
        for name, spec in std["groups"].items():
            rows = rows_of[name]
            for sym, bound in spec[tier].items():
                thr[sym][rows] = bound
        parts = []
        for sym, bound in thr.items():
            used = ~np.isnan(bound)
            known = ~np.isnan(indicators[sym])
            part = ts.from_bool(np.where(used & known, indicators[sym] >= np.nan_to_num(bound), True),
                                known | ~used)
            parts.append(part)
        tiers[tier] = ts.all_of(parts, n)
    out = np.full(n, None, dtype=object)
    undecided = np.array([g is not None for g in groups], dtype=bool)
    for tier in _TIERS:
        t = tiers[tier]
        out[undecided & (t == ts.MET)] = tier
        undecided = undecided & (t == ts.NOT_MET)  # UNKNOWN at a tier leaves the class null
    out[undecided] = "micro"
    return out


_NUMERIC_INPUTS = ("rd_expense", "revenue", "rd_expense_3y", "revenue_3y", "tech_staff", "rd_staff",
                   "employees", "revenue_prev", "taxable_income", "total_assets")


def oracle_derived(df: pd.DataFrame, as_of: dt.date, ref: ReferenceTables) -> pd.DataFrame:
    """Return ``df`` with the SPEC §3 derived facts and one ``cert_<name>`` column per title.

    Every new column is computed on numpy arrays and the frame is extended once (a column
    assignment per fact costs more than the facts for a small batch).
    """
    n = len(df)
    codes = df["industry_code"].to_numpy(dtype=object)
    lut = {c: industry_group(c, ref) for c in set(codes) if isinstance(c, str)}
    groups = np.array([lut[c] if isinstance(c, str) else None for c in codes], dtype=object)
    num = {c: df[c].to_numpy(dtype="float64", na_value=np.nan)
           for c in set(_NUMERIC_INPUTS) | set(ref.size_standard["indicator_fields"].values())}
    new: dict[str, object] = {"industry_group": pd.Series(groups, index=df.index, dtype=object, copy=False),
                              "size_class": size_classes(groups, num, ref)}
    est = df["established_on"].to_numpy(dtype="datetime64[ns]")
    elapsed = (np.datetime64(as_of, "ns") - est).astype("int64").astype("float64")
    days = np.where(np.isnat(est), np.nan, np.floor(elapsed / 86_400e9))
    new["age_years"] = np.round(days / _DAYS_PER_YEAR, 4)
    new["manufacturer"] = np.array([float(c[:1] == "C") if isinstance(c, str) else np.nan for c in codes])
    new["rd_intensity"] = _ratio(num["rd_expense"], num["revenue"])
    new["rd_intensity_3y"] = _ratio(num["rd_expense_3y"], num["revenue_3y"])
    new["tech_staff_ratio"] = _ratio(num["tech_staff"], num["employees"])
    new["rd_staff_ratio"] = _ratio(num["rd_staff"], num["employees"])
    new["revenue_growth"] = _ratio(num["revenue"] - num["revenue_prev"], num["revenue_prev"])
    slp_parts = [
        ts.from_bool(num[col] <= bound, ~np.isnan(num[col]))
        for col, bound in (("taxable_income", SMALL_LOW_PROFIT_MAX_TAXABLE_INCOME),
                           ("employees", SMALL_LOW_PROFIT_MAX_EMPLOYEES),
                           ("total_assets", SMALL_LOW_PROFIT_MAX_ASSETS))
    ]
    slp = ts.all_of(slp_parts, n)
    new["small_low_profit"] = np.where(slp == ts.UNKNOWN, np.nan, (slp == ts.MET).astype("float64"))
    # Few distinct certification lists exist: decode each once, then index. None = unknown.
    cert_codes, uniques = pd.factorize(df["certifications"].to_numpy(dtype=object), use_na_sentinel=True)
    for cert, col in CERT_COLUMNS.items():
        table = np.array([float(cert in str(u).split(";")) for u in uniques] + [np.nan])
        new[col] = table[cert_codes]
    kept = df.drop(columns=[c for c in new if c in df.columns])
    return pd.concat([kept, pd.DataFrame(new, index=df.index)], axis=1)
