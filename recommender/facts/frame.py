"""The evaluation frame: a typed profile frame with derived facts, plus cached array views.

Criteria read columns through this object so that the same conversion (to float arrays,
factorised codes, day numbers) happens once per run, not once per criterion. Derived facts
(SPEC §3) are computed on first use, column by column, by their array rules
(:mod:`recommender.facts`); the pandas frame with every derived column (``df``) is
only assembled when a caller asks for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cached_property
from typing import TypeVar

import numpy as np
import pandas as pd

from recommender.facts.declared import CATEGORY_FACTS, FACTS, NUMERIC_FACTS
from recommender.profile import ReferenceTables

# industry_group is an object column; size_class's dtype is left to pandas (a string dtype
# when any class is known), as the frame has always had them.
T = TypeVar("T")
_DF_DTYPES: dict[str, object] = {"industry_group": object, "size_class": None}


class EvalFrame:
    """Firms to evaluate (``n`` rows) as of one date."""

    def __init__(self, profiles: pd.DataFrame, as_of: dt.date, ref: ReferenceTables, *,
                 factorized: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        """``factorized``: ``(codes, uniques)`` already known for some text columns of
        ``profiles`` (e.g. from the Arrow fast path of ``benchmarks/arrow_profiles.py``), taken as
        :meth:`factorized` would compute them: codes -1 where unknown, uniques distinct."""
        self.as_of = as_of
        self.ref = ref
        self.profiles = profiles
        self.n = len(profiles)
        self._num: dict[str, np.ndarray] = {}
        self._fact: dict[str, tuple[np.ndarray, np.ndarray]] = dict(factorized or {})
        self._days: dict[str, np.ndarray] = {}
        self._memo: dict[object, object] = {}
        self._py: dict[str, list[object]] = {}

    @cached_property
    def df(self) -> pd.DataFrame:
        """The profiles with every derived column appended (in :data:`recommender.facts.FACTS` order)."""
        extra = {name: self._derived_column(name) for name in FACTS}
        out = self.profiles.copy()
        keep = [c for c in out.columns if c not in extra]
        return pd.concat([out[keep] if len(keep) < out.shape[1] else out,
                          pd.DataFrame({k: pd.Series(v, index=out.index, dtype=_DF_DTYPES.get(k, v.dtype))
                                        for k, v in extra.items()})], axis=1)

    @cached_property
    def _columns(self) -> dict[str, np.ndarray]:
        """Every profile column as a numpy array, taken in one call: per-column ``df[name]``
        costs tens of microseconds, which is most of a one-firm evaluation."""
        return column_arrays(self.profiles)

    def _derived_column(self, name: str) -> np.ndarray:
        if name in CATEGORY_FACTS:
            idx, labels = CATEGORY_FACTS[name].codes(self)
            return np.array([*labels, None], dtype=object)[idx]
        return self.num(name)

    def memo(self, key: object, compute: Callable[[], T]) -> T:
        """Cache a whole-frame computation (e.g. score totals) for per-row explanations."""
        try:
            return self._memo[key]  # type: ignore[return-value]  # the memo holds what ``compute`` made
        except KeyError:
            value = self._memo[key] = compute()
            return value

    @cached_property
    def as_of_day(self) -> float:
        return float((pd.Timestamp(self.as_of) - pd.Timestamp("1970-01-01")).days)

    def num(self, name: str) -> np.ndarray:
        """float64 view of a number/bool column; NaN where unknown."""
        try:
            return self._num[name]
        except KeyError:
            pass
        if name in NUMERIC_FACTS:
            values = NUMERIC_FACTS[name].array(self)
        else:
            values = self._columns[name]
            if values.dtype != np.float64:
                values = self.profiles[name].to_numpy(dtype="float64", na_value=np.nan)
        self._num[name] = values
        return values

    def unknown(self, name: str, *, dates: bool = False) -> np.ndarray:
        """int8 1 where the column (``num``, or ``days`` with ``dates``) is unknown, else 0."""
        key = ("unknown", name, dates)
        try:
            return self._memo[key]  # type: ignore[return-value]
        except KeyError:
            values = self.days(name) if dates else self.num(name)
            out = self._memo[key] = np.isnan(values).view(np.int8)
            return out

    def factorized(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(codes, uniques)`` of a string column; code -1 where unknown."""
        try:
            return self._fact[name]
        except KeyError:
            pass
        if name in CATEGORY_FACTS:
            idx, labels = CATEGORY_FACTS[name].codes(self)
            present = np.unique(idx[idx >= 0])          # only the labels that occur, as pd.factorize
            remap = np.full(len(labels) + 1, -1, dtype=np.intp)
            remap[present] = np.arange(len(present))
            self._fact[name] = (remap[idx], np.array([labels[i] for i in present], dtype=object))
        else:
            column = self._columns[name]
            codes, uniques = pd.factorize(column if column.dtype == object else self.profiles[name],
                                          use_na_sentinel=True)
            self._fact[name] = (codes, np.asarray(uniques, dtype=object))
        return self._fact[name]

    def days(self, name: str) -> np.ndarray:
        """A date column as float day numbers since 1970-01-01; NaN where unknown."""
        if name not in self._days:
            column = self._columns[name]
            if column.dtype == np.dtype("datetime64[ns]"):
                # whole days since the epoch, rounded down as Timedelta.days is
                days = (column.view(np.int64) // _NS_PER_DAY).astype("float64")
                days[np.isnat(column)] = np.nan
            else:
                col = self.profiles[name]
                days = (col - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype="float64", na_value=np.nan)
            self._days[name] = days
        return self._days[name]

    def datetimes(self, name: str) -> np.ndarray:
        """A date column as ``datetime64[ns]`` (NaT where unknown)."""
        return self.profiles[name].to_numpy(dtype="datetime64[ns]")

    def value(self, name: str, row: int) -> object:
        """One cell as a JSON-friendly Python value (``None`` when unknown)."""
        if name not in self._py:
            if name in FACTS:
                values = self._derived_column(name).tolist()
            else:
                values = self.profiles[name].tolist()
            self._py[name] = [_plain(v) for v in values]
        return self._py[name][row]


_NS_PER_DAY = 86_400 * 10**9


def column_arrays(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """``{column: numpy array}`` of a frame in one pass over its blocks where pandas allows it
    (``_mgr.column_arrays``), else column by column; extension columns come back as numpy
    object arrays either way only through the slow path (callers check the dtype)."""
    names = list(df.columns)
    if len(set(names)) == len(names):
        try:
            arrays = df._mgr.column_arrays
        except AttributeError:
            arrays = None
        if arrays is not None and len(arrays) == len(names):
            return {name: a if isinstance(a, np.ndarray) else np.asarray(df[name], dtype=object)
                    for name, a in zip(names, arrays)}
    return {name: df[name].to_numpy() if not isinstance(df[name].dtype, pd.api.extensions.ExtensionDtype)
            else df[name].to_numpy(dtype=object) for name in names}


def _plain(v: object) -> object:
    if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    if isinstance(v, np.generic):
        return v.item()
    return v
