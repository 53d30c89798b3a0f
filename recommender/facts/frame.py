"""The evaluation frame: typed profile columns with derived facts, plus cached array views.

Criteria read columns through this object so that the same conversion (to float arrays,
factorised codes, day numbers) happens once per run, not once per criterion. A frame is built
from the typed profile columns (``{name: numpy array}``, as
:func:`recommender.profile.frame.profile_arrays` makes them), or from a typed profile
DataFrame by :meth:`EvalFrame.from_profiles`. Derived facts (SPEC §3) are computed on first
use, column by column, by their array rules (:mod:`recommender.facts`); the pandas frame with
every derived column (``df``) is only assembled when a caller asks for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from recommender.facts.declared import CATEGORY_FACTS, FACTS, NUMERIC_FACTS
from recommender.profile import ReferenceTables

# industry_group is an object column; size_class's dtype is left to pandas (a string dtype
# when any class is known), as the frame has always had them.
T = TypeVar("T")
_DF_DTYPES: dict[str, object] = {"industry_group": object, "size_class": None}
ColumnArrays = Mapping[str, np.ndarray]
"""Typed profile columns by name, all of one length: float64 with NaN (numbers and flags),
``datetime64[ns]`` with NaT (dates), object with ``None`` (text)."""


class Memo(dict[object, Any]):
    """A frame's memo: whole-frame computations by key, some computed only when first read
    (:meth:`EvalFrame.defer`)."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[object, Callable[[], object]] = {}

    def __missing__(self, key: object) -> Any:
        compute = self.pending.pop(key, None)
        if compute is None:
            raise KeyError(key)
        value = self[key] = compute()
        return value


class LazyColumns(Mapping[str, np.ndarray]):
    """Columns made only when first read: all at once by ``build`` (e.g. the one-element
    columns of one firm), or one by one by ``column`` over ``names``."""

    def __init__(self, names: tuple[str, ...], *, build: Callable[[], dict[str, np.ndarray]] | None = None,
                 column: Callable[[str], np.ndarray] | None = None) -> None:
        self._names = names
        self._build = build
        self._column = column
        self._made: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self._made[name]
        except KeyError:
            pass
        if name not in self._names:
            raise KeyError(name)
        if self._column is not None:
            out = self._made[name] = self._column(name)
            return out
        assert self._build is not None
        self._made = self._build()
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _series_array(series: pd.Series) -> np.ndarray:
    """A column's values as numpy (extension columns as object arrays)."""
    if isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
        return series.to_numpy(dtype=object)
    return series.to_numpy()


class EvalFrame:
    """Firms to evaluate (``n`` rows) as of one date."""

    def __init__(self, columns: ColumnArrays, as_of: dt.date, ref: ReferenceTables, *,
                 n: int | None = None, factorized: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
                 profiles: pd.DataFrame | None = None) -> None:
        """``columns``: the typed profile columns (read, never written). ``n``: the number of
        rows (the columns' length when not given). ``factorized``: ``(codes, uniques)`` already
        known for some text columns (e.g. from the Arrow fast path of
        ``benchmarks/arrow_profiles.py``), taken as :meth:`factorized` would compute them: codes
        -1 where unknown, uniques distinct. ``profiles``: the DataFrame the columns come from,
        if any (:meth:`from_profiles`), kept as :attr:`profiles`."""
        self.as_of = as_of
        self.ref = ref
        self.n = len(next(iter(columns.values()))) if n is None and columns else (n or 0)
        self._columns = columns
        self._source = profiles
        self._num: dict[str, np.ndarray] = {}
        self._fact: dict[str, tuple[np.ndarray, np.ndarray]] = dict(factorized or {})
        self._days: dict[str, np.ndarray] = {}
        self._memo = Memo()
        self._py: dict[str, list[object]] = {}

    @classmethod
    def from_profiles(cls, profiles: pd.DataFrame, as_of: dt.date, ref: ReferenceTables, *,
                      factorized: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> EvalFrame:
        """The frame of a typed profile DataFrame (:func:`recommender.profile.frame.coerce_frame`'s
        dtypes); each column is taken out of pandas when first read."""
        columns = LazyColumns(tuple(map(str, profiles.columns)),
                              column=lambda name: _series_array(profiles[name]))
        return cls(columns, as_of, ref, n=len(profiles), factorized=factorized, profiles=profiles)

    @cached_property
    def profiles(self) -> pd.DataFrame:
        """The typed profile frame (the one given to :meth:`from_profiles`, else built from the
        columns only when a caller wants pandas)."""
        if self._source is not None:
            return self._source
        return pd.DataFrame({k: pd.Series(v, dtype=object, copy=False) if v.dtype == object else v
                             for k, v in self._columns.items()})

    @cached_property
    def df(self) -> pd.DataFrame:
        """The profiles with every derived column appended (in :data:`recommender.facts.FACTS` order)."""
        extra = {name: self._derived_column(name) for name in FACTS}
        out = self.profiles.copy()
        keep = [c for c in out.columns if c not in extra]
        return pd.concat([out[keep] if len(keep) < out.shape[1] else out,
                          pd.DataFrame({k: pd.Series(v, index=out.index, dtype=_DF_DTYPES.get(k, v.dtype))
                                        for k, v in extra.items()})], axis=1)

    def _series(self, name: str) -> pd.Series:
        """One profile column as pandas (for the conversions numpy has no match for)."""
        if self._source is not None:
            return self._source[name]
        return pd.Series(self._columns[name], copy=False)

    def _derived_column(self, name: str) -> np.ndarray:
        if name in CATEGORY_FACTS:
            idx, labels = CATEGORY_FACTS[name].codes(self)
            return np.array([*labels, None], dtype=object)[idx]
        return self.num(name)

    def memo(self, key: object, compute: Callable[[], T]) -> T:
        """Cache a whole-frame computation (e.g. score totals) for per-row explanations."""
        try:
            out: T = self._memo[key]
            return out
        except KeyError:
            value = self._memo[key] = compute()
            return value

    def remember(self, key: object, value: object) -> None:
        """Put ``value`` in the memo under ``key`` (what :meth:`memo` would compute)."""
        self._memo[key] = value

    def recall(self, key: object) -> Any:
        """The memo entry under ``key`` if it was computed, else ``None`` (a deferred entry
        is left uncomputed)."""
        return self._memo.get(key)

    def defer(self, key: object, compute: Callable[[], object]) -> None:
        """A memo entry computed only if read (through :meth:`memo`)."""
        self._memo.pending[key] = compute

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
                values = self._series(name).to_numpy(dtype="float64", na_value=np.nan)
        self._num[name] = values
        return values

    def unknown(self, name: str, *, dates: bool = False) -> np.ndarray:
        """int8 1 where the column (``num``, or ``days`` with ``dates``) is unknown, else 0."""
        key = ("unknown", name, dates)
        try:
            out: np.ndarray = self._memo[key]
            return out
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
            codes, uniques = pd.factorize(column if column.dtype == object else self._series(name),
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
                col = self._series(name)
                days = (col - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype="float64", na_value=np.nan)
            self._days[name] = days
        return self._days[name]

    def datetimes(self, name: str) -> np.ndarray:
        """A date column as ``datetime64[ns]`` (NaT where unknown)."""
        column = self._columns[name]
        if column.dtype == np.dtype("datetime64[ns]"):
            return column
        return self._series(name).to_numpy(dtype="datetime64[ns]")

    def value(self, name: str, row: int) -> object:
        """One cell as a JSON-friendly Python value (``None`` when unknown)."""
        if name not in self._py:
            if name in FACTS:
                values = self._derived_column(name).tolist()
            else:
                values = self._series(name).tolist()
            self._py[name] = [_plain(v) for v in values]
        return self._py[name][row]


_NS_PER_DAY = 86_400 * 10**9


def _plain(v: object) -> object:
    if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    if isinstance(v, np.generic):
        return v.item()
    return v
