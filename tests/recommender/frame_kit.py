"""Two evaluation frames compared accessor by accessor: shared by the frame tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.facts import CATEGORY_FACTS, FACTS, NUMERIC_FACTS
from recommender.facts.frame import EvalFrame
from recommender.profile.kinds import PROFILE_KINDS


def same_array(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fcmM"))


def assert_same_frame(got: EvalFrame, want: EvalFrame, *, pandas: bool = True) -> None:
    """Every accessor of ``got`` equals ``want``'s (and the pandas forms too, with ``pandas``)."""
    assert got.n == want.n
    for name, kind in PROFILE_KINDS.items():
        for row in range(want.n):
            assert got.value(name, row) == want.value(name, row), name
        if kind in ("number", "bool"):
            assert same_array(got.num(name), want.num(name)), name
            assert same_array(got.unknown(name), want.unknown(name)), name
        elif kind == "date":
            assert same_array(got.days(name), want.days(name)), name
            assert same_array(got.unknown(name, dates=True), want.unknown(name, dates=True)), name
            assert same_array(got.datetimes(name), want.datetimes(name)), name
        else:
            codes, uniques = got.factorized(name)
            want_codes, want_uniques = want.factorized(name)
            assert codes.tolist() == want_codes.tolist() and list(uniques) == list(want_uniques), name
    for name in NUMERIC_FACTS:
        assert same_array(got.num(name), want.num(name)), name
    for name in FACTS:
        assert [got.value(name, r) for r in range(want.n)] == [want.value(name, r) for r in range(want.n)], name
    for name in CATEGORY_FACTS:
        assert [list(x) for x in got.factorized(name)] == [list(x) for x in want.factorized(name)], name
    assert got.as_of_day == want.as_of_day
    if pandas:
        pd.testing.assert_frame_equal(got.profiles, want.profiles, check_exact=True)
        pd.testing.assert_frame_equal(got.df, want.df, check_exact=True)
