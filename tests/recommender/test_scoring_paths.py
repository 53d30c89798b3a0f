"""Score sums: whole-number points take the folded path; fractional points the plain one.
Both give the interval a row-by-row reading of the bands gives."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from recommender.facts.frame import EvalFrame
from recommender.profile.frame import coerce_frame
from recommender.rules.scoring import Band, Block, Indicator


def _frame(ref) -> EvalFrame:  # type: ignore[no-untyped-def]
    df = coerce_frame(pd.DataFrame({"main_business_share": [0.9, 0.65, None, 0.1],
                                    "years_in_niche": [None, 3.0, 12.0, 0.0]}))
    return EvalFrame.from_profiles(df, dt.date(2022, 6, 30), ref)


def _block(points: tuple[float, float, float], unobservable: float, cap: float | None) -> Block:
    a, b, c = points
    share = Indicator("share", "", "", max(a, b), field="main_business_share",
                      bands=(Band(a, min=0.8), Band(b, min=0.6)), otherwise=0.0)
    niche = Indicator("niche", "", "", c, field="years_in_niche", bands=(Band(c, min=2.0),))
    hidden = Indicator("hidden", "", "", unobservable, unobservable=True)
    return Block("b", "", "", (share, hidden, niche), cap=cap)


def _expected(points: tuple[float, float, float], unobservable: float, cap: float | None):  # type: ignore[no-untyped-def]
    a, b, c = points
    share = [(a, a), (b, b), (min(a, b, 0.0), max(a, b, 0.0)), (0.0, 0.0)]
    niche = [(0.0, c), (c, c), (c, c), (0.0, 0.0)]
    low = np.array([s[0] + 0.0 + n[0] for s, n in zip(share, niche)])
    high = np.array([s[1] + unobservable + n[1] for s, n in zip(share, niche)])
    if cap is not None:
        low, high = np.minimum(low, cap), np.minimum(high, cap)
    return low, high


def test_whole_and_fractional_points(ref) -> None:
    for points, unobs, cap, whole in (((5.0, 3.0, 4.0), 10.0, None, True), ((5.0, 3.0, 4.0), 10.0, 15.0, True),
                                      ((0.1, 0.2, 0.7), 0.3, None, False), ((2.5, 1.0, 4.0), 2.0, 6.5, False)):
        block = _block(points, unobs, cap)
        assert block.whole_points is whole
        low, high = block.points(_frame(ref))
        el, eh = _expected(points, unobs, cap)
        np.testing.assert_array_equal(low, el)
        np.testing.assert_array_equal(high, eh)
