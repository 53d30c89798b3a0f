"""The operator registry: one declaration per operator, its array and scalar forms equal on
every pair of floats (NaN and infinities included), bounds as the documents word them."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings, strategies as st

from recommender.rules.operators import LOWER_BOUND_OPS, OPERATORS, OPS, SCALAR_OPS, UPPER_BOUND_OPS

floats = st.floats(allow_nan=True, allow_infinity=True)


def test_views_list_every_operator_once() -> None:
    assert list(OPS) == list(SCALAR_OPS) == list(OPERATORS) == [">=", ">", "<=", "<", "==", "!="]
    assert LOWER_BOUND_OPS == (">=", ">") and UPPER_BOUND_OPS == ("<=", "<")


def test_inclusive_and_exclusive_at_the_bound() -> None:
    at, below, above = 3.0, math.nextafter(3.0, 0.0), math.nextafter(3.0, 4.0)
    assert [SCALAR_OPS[">="](x, at) for x in (below, at, above)] == [False, True, True]
    assert [SCALAR_OPS[">"](x, at) for x in (below, at, above)] == [False, False, True]
    assert [SCALAR_OPS["<="](x, at) for x in (below, at, above)] == [True, True, False]
    assert [SCALAR_OPS["<"](x, at) for x in (below, at, above)] == [True, False, False]


@settings(max_examples=500, deadline=None)
@given(a=floats, b=floats, symbol=st.sampled_from(list(OPERATORS)))
def test_array_and_scalar_forms_agree(a: float, b: float, symbol: str) -> None:
    op = OPERATORS[symbol]
    assert bool(op.array(np.array([a]), b)[0]) == op.scalar(a, b)
