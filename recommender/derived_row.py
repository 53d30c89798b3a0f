"""SPEC §3 derived facts of one firm, on Python scalars (the one-firm serving frame).

:mod:`recommender.derived_arrays` computes the facts over a frame with a few dozen numpy
calls, which for one firm cost more than everything else it needs. This is the same
arithmetic on scalars, using that module's tables and constants (size standard bounds, group
lookup, ratio definitions, small-low-profit limits); a hypothesis test holds every fact equal,
bit for bit, to the array form for generated profiles and dates.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from recommender import derived_arrays as dv
from recommender import tristate as ts
from recommender.fields import CERT_COLUMNS
from recommender.reference import ReferenceTables

NAN = float("nan")
_EPOCH = dt.date(1970, 1, 1)


def _ratio(num: float, den: float) -> float:
    """``num / den``; NaN when not finite (as ``derived_arrays._ratio``)."""
    try:
        out = num / den
    except ZeroDivisionError:
        return NAN
    except OverflowError:
        return NAN
    return out if math.isfinite(out) else NAN


def _size_code(values: dict[str, float], group: int, ref: ReferenceTables) -> int:
    """As ``derived_arrays.size_codes`` for one row: index into ``SIZE_LABELS``, -1 unknown."""
    table = dv.size_table(ref)
    if group < 0:
        return -1
    for k, tier in enumerate(dv.SIZE_LABELS[:3]):
        t = ts.MET
        for sym, col in table.fields.items():
            bound = float(table.bounds[tier][sym][group])
            used = bound == bound
            v = values[col]
            known = v == v
            if not (known or not used):
                part = ts.UNKNOWN
            else:
                part = ts.MET if (v >= bound if used and known else True) else ts.NOT_MET
            t = min(t, part)
        if t == ts.MET:
            return k
        if t != ts.NOT_MET:
            return -1
    return len(dv.SIZE_LABELS) - 1


def derived_values(values: dict[str, object], as_of: dt.date, ref: ReferenceTables) -> dict[str, object]:
    """Every derived fact of one firm from its cell values (:func:`recommender.frame.profile_values`).

    Numeric facts are floats (NaN unknown); ``industry_group`` and ``size_class`` are
    ``(index, labels)`` with index -1 when unknown, as ``derived_arrays.category_fact``.
    """
    num = values.__getitem__
    out: dict[str, object] = {}
    est = values["established_on"]
    if est is None:
        out["age_years"] = NAN
    else:
        days = float((as_of - est).days)  # type: ignore[operator]
        out["age_years"] = float(np.round(days / dv._DAYS_PER_YEAR, 4))
    code = values["industry_code"]
    out["manufacturer"] = NAN if code is None else float(str(code)[:1] == "C")
    for name, (n, d) in dv.RATIOS.items():
        out[name] = _ratio(num(n), num(d))  # type: ignore[arg-type]
    out["revenue_growth"] = _ratio(num("revenue") - num("revenue_prev"), num("revenue_prev"))  # type: ignore[operator]
    slp = ts.MET
    for col, bound in dv._SLP:
        v = num(col)
        slp = min(slp, ts.UNKNOWN if v != v else (ts.MET if v <= bound else ts.NOT_MET))  # type: ignore[operator]
    out["small_low_profit"] = NAN if slp == ts.UNKNOWN else float(slp == ts.MET)
    certs = values["certifications"]
    held = None if certs is None else str(certs).split(";")
    for cert, column in CERT_COLUMNS.items():
        out[column] = NAN if held is None else float(cert in held)
    table = dv.size_table(ref)
    group = -1 if code is None else table.group_index(str(code))
    out["industry_group"] = (group, table.groups)
    out["size_class"] = (_size_code(values, group, ref), dv.SIZE_LABELS)  # type: ignore[arg-type]
    return out
