"""The evaluation frame of one firm, built straight from its validated profile (no pandas).

:class:`RowFrame` is an :class:`~recommender.facts.frame.EvalFrame` of one row. Its cells are
the profile's values as :func:`recommender.profile.frame.profile_values` converts them (the
conversion every frame uses) and its derived facts come from
:func:`recommender.facts.derived_values` (the facts' scalar rules); arrays of one element are made only when a
vectorised caller (a tiered or formula node, the pair features) asks for a column. The
one-firm plan reads cells as Python floats (:meth:`RowFrame.scalar`). Building one costs
microseconds where a pandas frame of one row costs milliseconds. A test holds its columns,
factorisations and cells equal to those of an ``EvalFrame`` over ``profiles_to_frame``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cached_property
from typing import cast

import numpy as np
import pandas as pd

from recommender.facts.declared import CATEGORY_FACTS, NUMERIC_FACTS, derived_values
from recommender.facts.frame import EvalFrame, _plain
from recommender.profile import FirmProfile, ReferenceTables, profile_arrays, profile_values

_NO_CODES = np.array([-1], dtype=np.intp)
_FIRST = np.array([0], dtype=np.intp)
_NONE: np.ndarray = np.array([], dtype=object)
_EPOCH = dt.date(1970, 1, 1)


class _Memo(dict[object, object]):
    """The frame memo, with entries that may be computed on first read (:meth:`RowFrame.defer`)."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[object, Callable[[], object]] = {}

    def __missing__(self, key: object) -> object:
        compute = self.pending.pop(key, None)
        if compute is None:
            raise KeyError(key)
        value = self[key] = compute()
        return value


class RowFrame(EvalFrame):
    """One firm as of one date: an evaluation frame of a single row."""

    def __init__(self, profile: FirmProfile, as_of: dt.date, ref: ReferenceTables) -> None:
        # EvalFrame.__init__ is not called: it takes a DataFrame; the same state is set here.
        self.as_of = as_of
        self.ref = ref
        self.n = 1
        self._profile = profile
        self._cells = profile_values(profile)
        self._num: dict[str, np.ndarray] = {}
        self._fact: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._days: dict[str, np.ndarray] = {}
        self._memo: dict[object, object] = _Memo()
        self._py: dict[str, list[object]] = {}
        self._values: dict[str, object] = {}

    def defer(self, key: object, compute: Callable[[], object]) -> None:
        """A memo entry computed only if read (through :meth:`memo` or indexing)."""
        self._memo.pending[key] = compute  # type: ignore[attr-defined]

    @cached_property
    def derived(self) -> dict[str, object]:
        """Every derived fact as a scalar (categories as ``(index, labels)``)."""
        return derived_values(self._cells, self.as_of, self.ref)

    @cached_property
    def profiles(self) -> pd.DataFrame:
        """The typed profile frame (built only if a caller needs pandas; serving does not)."""
        return pd.DataFrame({k: pd.Series(v, dtype=object, copy=False) if v.dtype == object else v
                             for k, v in self._columns.items()})

    @cached_property
    def _columns(self) -> dict[str, np.ndarray]:
        return profile_arrays([self._profile])

    def scalar(self, name: str) -> float:
        """``num(name)[0]`` as a Python float (NaN unknown), without making an array."""
        if name in NUMERIC_FACTS:
            return self.derived[name]  # type: ignore[return-value]
        return self._cells[name]  # type: ignore[return-value]

    def scalar_days(self, name: str) -> float:
        """``days(name)[0]`` as a Python float (NaN unknown)."""
        d = self._cells[name]
        return float("nan") if d is None else float((d - _EPOCH).days)  # type: ignore[operator]

    def num(self, name: str) -> np.ndarray:
        try:
            return self._num[name]
        except KeyError:
            out = self._num[name] = np.array([self.scalar(name)], dtype="float64")
            return out

    def days(self, name: str) -> np.ndarray:
        try:
            return self._days[name]
        except KeyError:
            out = self._days[name] = np.array([self.scalar_days(name)], dtype="float64")
            return out

    def datetimes(self, name: str) -> np.ndarray:
        return self._columns[name]

    def factorized(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(codes, uniques)`` of a text column or category fact of one row: ``([0], [value])``,
        or ``([-1], [])`` when unknown (as ``pandas.factorize`` gives)."""
        try:
            return self._fact[name]
        except KeyError:
            pass
        value = self.value(name, 0)
        out = (_NO_CODES, _NONE) if value is None else (_FIRST, np.array([value], dtype=object))
        self._fact[name] = out
        return out

    def value(self, name: str, row: int) -> object:
        if row != 0:
            raise IndexError(f"row {row} of a one-firm frame")
        try:
            return self._values[name]
        except KeyError:
            out = self._values[name] = self._value(name)
            return out

    def _value(self, name: str) -> object:
        if name in CATEGORY_FACTS:
            index, labels = cast("tuple[int, tuple[str, ...]]", self.derived[name])
            return None if index < 0 else labels[index]
        v = self.scalar(name) if name in NUMERIC_FACTS else self._cells[name]
        if isinstance(v, float):
            return None if v != v else v
        if isinstance(v, dt.date):
            return v.isoformat()
        return _plain(v)
