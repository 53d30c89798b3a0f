"""The closed operator registry: the only comparisons a catalog may name, each with its array
form (numpy, over a column) and its scalar form (one firm's Python floats)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Operator:
    """A comparison a catalog may name, in its two forms: ``array`` (a numpy ufunc over a
    column) and ``scalar`` (on two Python floats, for the one-firm path). Both follow IEEE
    754, so they agree on every pair of floats, NaN included (a test holds them equal)."""

    symbol: str
    array: Callable[..., Any]          # a numpy ufunc: arrays or scalars in, bool array or numpy bool out
    scalar: Callable[[float, float], bool]
    bound: str | None            # "lower", "upper" or None (equality)


# The closed operator registry: the only comparisons a catalog may name. Inclusive/exclusive
# is stated by the operator itself, exactly as the document words it; no epsilon anywhere.
OPERATORS: dict[str, Operator] = {o.symbol: o for o in (
    Operator(">=", np.greater_equal, operator.ge, "lower"),
    Operator(">", np.greater, operator.gt, "lower"),
    Operator("<=", np.less_equal, operator.le, "upper"),
    Operator("<", np.less, operator.lt, "upper"),
    Operator("==", np.equal, operator.eq, None),
    Operator("!=", np.not_equal, operator.ne, None),
)}
OPS: dict[str, Callable[..., Any]] = {s: o.array for s, o in OPERATORS.items()}
"""Each operator's array form (a view of :data:`OPERATORS`)."""
SCALAR_OPS: dict[str, Callable[[float, float], bool]] = {s: o.scalar for s, o in OPERATORS.items()}
"""Each operator's scalar form (a view of :data:`OPERATORS`)."""
LOWER_BOUND_OPS = tuple(s for s, o in OPERATORS.items() if o.bound == "lower")
UPPER_BOUND_OPS = tuple(s for s, o in OPERATORS.items() if o.bound == "upper")


def format_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1000:
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
