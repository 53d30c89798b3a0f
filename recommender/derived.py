"""Derived facts of SPEC §3, computed for a whole frame as of a date.

``size_class`` follows 工信部联企业〔2011〕300号 with the group scope of 国统字〔2017〕213号
(thresholds in ``data/reference/sme_size_standard.yaml``). Unknown inputs give null, except
where the known indicators already decide the class (e.g. an industrial firm with 12
employees is micro whatever its revenue).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from recommender import tristate as ts
from recommender.fields import CERT_COLUMNS
from recommender.reference import ReferenceTables

# 小型微利企业 (财税〔2019〕13号 and later; policy-facts §6, H): all bounds inclusive.
SMALL_LOW_PROFIT_MAX_TAXABLE_INCOME = 3_000_000.0
SMALL_LOW_PROFIT_MAX_EMPLOYEES = 300.0
SMALL_LOW_PROFIT_MAX_ASSETS = 50_000_000.0

_TIERS = ("large", "medium", "small")
_DAYS_PER_YEAR = 365.2425


def industry_group(code: str | None, ref: ReferenceTables) -> str | None:
    """SME-standard group of a canonical GB/T 4754 code, or None (not covered or ambiguous)."""
    if code is None:
        return None
    mapping: dict[str, str | None] = ref.size_standard["mapping"]
    covering = [p for p in mapping if code.startswith(p)]
    if covering:
        return mapping[max(covering, key=len)]
    finer = {mapping[p] for p in mapping if p.startswith(code)}
    return finer.pop() if len(finer) == 1 else None


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = num / den
    out[~np.isfinite(out)] = np.nan
    return out


def size_classes(groups: pd.Series, df: pd.DataFrame, ref: ReferenceTables) -> np.ndarray:
    """Size class per row (object array of str or None), top-down with and/or per §1.1."""
    std = ref.size_standard
    n = len(df)
    values = {sym: df[col].to_numpy(dtype="float64") for sym, col in std["indicator_fields"].items()}
    tiers: dict[str, np.ndarray] = {}
    for tier in _TIERS:
        thr = {sym: np.full(n, np.nan) for sym in values}
        for name, spec in std["groups"].items():
            rows = (groups == name).to_numpy()
            for sym, bound in spec[tier].items():
                thr[sym][rows] = bound
        parts = []
        for sym, bound in thr.items():
            used = ~np.isnan(bound)
            known = ~np.isnan(values[sym])
            part = ts.from_bool(np.where(used & known, values[sym] >= np.nan_to_num(bound), True),
                                known | ~used)
            parts.append(part)
        tiers[tier] = ts.all_of(parts, n)
    out = np.full(n, None, dtype=object)
    undecided = groups.notna().to_numpy()
    for tier in _TIERS:
        t = tiers[tier]
        out[undecided & (t == ts.MET)] = tier
        undecided = undecided & (t == ts.NOT_MET)  # UNKNOWN at a tier leaves the class null
    out[undecided] = "micro"
    return out


def add_derived(df: pd.DataFrame, as_of: dt.date, ref: ReferenceTables) -> pd.DataFrame:
    """Return ``df`` with the SPEC §3 derived facts and one ``cert_<name>`` column per title."""
    out = df.copy()
    codes = out["industry_code"]
    lut = {c: industry_group(c, ref) for c in pd.unique(codes.dropna())}
    groups = codes.map(lut).astype(object).where(codes.notna(), None)
    out["industry_group"] = groups
    out["size_class"] = size_classes(groups, out, ref)
    est = out["established_on"]
    age = (pd.Timestamp(as_of) - est).dt.days.to_numpy(dtype="float64") / _DAYS_PER_YEAR
    out["age_years"] = np.round(age, 4)
    section = codes.str[:1]
    out["manufacturer"] = np.where(codes.isna(), np.nan, (section == "C").astype("float64"))
    num = {c: out[c].to_numpy(dtype="float64") for c in (
        "rd_expense", "revenue", "rd_expense_3y", "revenue_3y", "tech_staff", "rd_staff",
        "employees", "revenue_prev", "taxable_income", "total_assets")}
    out["rd_intensity"] = _ratio(num["rd_expense"], num["revenue"])
    out["rd_intensity_3y"] = _ratio(num["rd_expense_3y"], num["revenue_3y"])
    out["tech_staff_ratio"] = _ratio(num["tech_staff"], num["employees"])
    out["rd_staff_ratio"] = _ratio(num["rd_staff"], num["employees"])
    out["revenue_growth"] = _ratio(num["revenue"] - num["revenue_prev"], num["revenue_prev"])
    slp_parts = [
        ts.from_bool(num[col] <= bound, ~np.isnan(num[col]))
        for col, bound in (("taxable_income", SMALL_LOW_PROFIT_MAX_TAXABLE_INCOME),
                           ("employees", SMALL_LOW_PROFIT_MAX_EMPLOYEES),
                           ("total_assets", SMALL_LOW_PROFIT_MAX_ASSETS))
    ]
    slp = ts.all_of(slp_parts, len(out))
    out["small_low_profit"] = np.where(slp == ts.UNKNOWN, np.nan, (slp == ts.MET).astype("float64"))
    # Few distinct certification lists exist: decode each once, then index. None = unknown.
    certs = out["certifications"]
    codes, uniques = pd.factorize(certs, use_na_sentinel=True)
    for cert, col in CERT_COLUMNS.items():
        lut = np.array([float(cert in str(u).split(";")) for u in uniques] + [np.nan])
        out[col] = lut[codes]
    return out
