"""Profiles as one typed DataFrame: the single shape every eligibility run works on.

``number`` and ``bool`` columns are float64 with NaN for unknown (bool as 1.0/0.0), dates are
``datetime64[ns]`` with NaT, codes/categories/text are object columns with ``None``, and the
certification list is ``;``-joined text. A single firm is a frame of one row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from recommender.fields import PROFILE_KINDS
from recommender.profile import FirmProfile


def empty_profile_frame() -> pd.DataFrame:
    """A zero-row frame with every profile column in its typed dtype."""
    return coerce_frame(pd.DataFrame({name: [] for name in PROFILE_KINDS}))


def coerce_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Give already-validated columns their canonical dtypes (no validation here)."""
    out = {}
    n = len(df)
    for name, kind in PROFILE_KINDS.items():
        col = df[name] if name in df else pd.Series([None] * n, index=df.index, dtype=object)
        if kind in ("number", "bool") and col.dtype == np.float64:
            out[name] = col.astype("float64")      # already canonical (NaN for unknown)
        elif kind in ("number", "bool"):
            out[name] = pd.to_numeric(col.astype(object).where(col.notna(), np.nan),
                                      errors="raise").astype("float64")
        elif kind == "date":
            out[name] = pd.to_datetime(col, errors="raise").astype("datetime64[ns]")
        else:
            out[name] = col.astype(object).where(col.notna(), None)
    return pd.DataFrame(out, index=df.index)


def profiles_to_frame(profiles: Sequence[FirmProfile]) -> pd.DataFrame:
    """Validated profiles → typed frame, in input order."""
    if not profiles:
        return empty_profile_frame()
    records = []
    for p in profiles:
        rec = p.model_dump()
        certs = rec["certifications"]
        rec["certifications"] = None if certs is None else ";".join(certs)
        records.append(rec)
    return coerce_frame(pd.DataFrame.from_records(records, columns=list(PROFILE_KINDS)))
