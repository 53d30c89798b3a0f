"""Derived facts of SPEC §3, computed for a whole frame as of a date.

``size_class`` follows 工信部联企业〔2011〕300号 with the group scope of 国统字〔2017〕213号
(thresholds in ``data/reference/sme_size_standard.yaml``). Unknown inputs give null, except
where the known indicators already decide the class (e.g. an industrial firm with 12
employees is micro whatever its revenue).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from recommender.reference import ReferenceTables

# 小型微利企业 (财税〔2019〕13号 and later; policy-facts §6, H): all bounds inclusive.
SMALL_LOW_PROFIT_MAX_TAXABLE_INCOME = 3_000_000.0
SMALL_LOW_PROFIT_MAX_EMPLOYEES = 300.0
SMALL_LOW_PROFIT_MAX_ASSETS = 50_000_000.0



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


def add_derived(df: pd.DataFrame, as_of: dt.date, ref: ReferenceTables) -> pd.DataFrame:
    """Return ``df`` with the SPEC §3 derived facts and one ``cert_<name>`` column per title.

    The facts are computed by :mod:`recommender.derived_arrays` (the evaluation frame's
    arrays); this is their DataFrame form.
    """
    from recommender.evalframe import EvalFrame     # evalframe builds on this module
    return EvalFrame(df, as_of, ref).df
