"""The evaluation frame of one firm, built straight from its validated profile (no pandas).

:class:`RowFrame` is an :class:`~recommender.facts.frame.EvalFrame` of one row, built through
its constructor with one-element columns made only when first read. Its cells are
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
from functools import cached_property
from typing import Any

import numpy as np

from recommender.facts.declared import CATEGORY_FACTS, NUMERIC_FACTS, derived_values
from recommender.facts.frame import EvalFrame, LazyColumns, _plain
from recommender.profile import PROFILE_KINDS, FirmProfile, ReferenceTables, profile_arrays, profile_values

_NO_CODES = np.array([-1], dtype=np.intp)
_FIRST = np.array([0], dtype=np.intp)
_NONE: np.ndarray = np.array([], dtype=object)
_EPOCH = dt.date(1970, 1, 1)
_NAMES = tuple(PROFILE_KINDS)


class RowFrame(EvalFrame):
    """One firm as of one date: an evaluation frame of a single row."""

    def __init__(self, profile: FirmProfile, as_of: dt.date, ref: ReferenceTables) -> None:
        super().__init__(LazyColumns(_NAMES, build=lambda: profile_arrays([profile])), as_of, ref, n=1)
        self._cells: dict[str, Any] = profile_values(profile)
        self._values: dict[str, object] = {}

    @cached_property
    def derived(self) -> dict[str, Any]:
        """Every derived fact as a scalar (categories as ``(index, labels)``)."""
        return derived_values(self._cells, self.as_of, self.ref)

    def scalar(self, name: str) -> float:
        """``num(name)[0]`` as a Python float (NaN unknown), without making an array."""
        out: float = self.derived[name] if name in NUMERIC_FACTS else self._cells[name]
        return out

    def scalar_days(self, name: str) -> float:
        """``days(name)[0]`` as a Python float (NaN unknown)."""
        d: dt.date | None = self._cells[name]
        return float("nan") if d is None else float((d - _EPOCH).days)

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
            index, labels = self.derived[name]
            return None if index < 0 else labels[index]
        v = self.scalar(name) if name in NUMERIC_FACTS else self._cells[name]
        if isinstance(v, float):
            return None if v != v else v
        if isinstance(v, dt.date):
            return v.isoformat()
        return _plain(v)
