"""The evaluation frame: a typed profile frame with derived facts, plus cached array views.

Criteria read columns through this object so that the same conversion (to float arrays,
factorised codes, day numbers) happens once per run, not once per criterion.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property

import numpy as np
import pandas as pd

from recommender.derived import add_derived
from recommender.reference import ReferenceTables


class EvalFrame:
    """Firms to evaluate (``n`` rows) as of one date."""

    def __init__(self, profiles: pd.DataFrame, as_of: dt.date, ref: ReferenceTables) -> None:
        self.as_of = as_of
        self.ref = ref
        self.df = add_derived(profiles, as_of, ref)
        self.n = len(self.df)
        self._num: dict[str, np.ndarray] = {}
        self._fact: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._days: dict[str, np.ndarray] = {}
        self._memo: dict[object, object] = {}
        self._py: dict[str, list[object]] = {}

    def memo(self, key: object, compute):  # type: ignore[no-untyped-def]
        """Cache a whole-frame computation (e.g. score totals) for per-row explanations."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @cached_property
    def as_of_day(self) -> float:
        return float((pd.Timestamp(self.as_of) - pd.Timestamp("1970-01-01")).days)

    def num(self, name: str) -> np.ndarray:
        """float64 view of a number/bool column; NaN where unknown."""
        if name not in self._num:
            self._num[name] = self.df[name].to_numpy(dtype="float64", na_value=np.nan)
        return self._num[name]

    def factorized(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(codes, uniques)`` of a string column; code -1 where unknown."""
        if name not in self._fact:
            codes, uniques = pd.factorize(self.df[name], use_na_sentinel=True)
            self._fact[name] = (codes, np.asarray(uniques, dtype=object))
        return self._fact[name]

    def days(self, name: str) -> np.ndarray:
        """A date column as float day numbers since 1970-01-01; NaN where unknown."""
        if name not in self._days:
            col = self.df[name]
            days = (col - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype="float64", na_value=np.nan)
            self._days[name] = days
        return self._days[name]

    def value(self, name: str, row: int) -> object:
        """One cell as a JSON-friendly Python value (``None`` when unknown)."""
        if name not in self._py:
            self._py[name] = [_plain(v) for v in self.df[name].tolist()]
        return self._py[name][row]


def _plain(v: object) -> object:
    if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    if isinstance(v, np.generic):
        return v.item()
    return v
