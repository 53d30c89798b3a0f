"""The one hard rule of a learned order: nothing ineligible ranks above an eligible or
undetermined policy, whatever the scores; within candidates the score decides (issue 21)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from recommender.ranking.rules import order, order_candidates

shapes = st.tuples(st.integers(1, 6), st.integers(1, 9))


@settings(max_examples=200, deadline=None)
@given(data=st.data(), shape=shapes)
def test_no_ineligible_policy_above_a_candidate(data: st.DataObject, shape: tuple[int, int]) -> None:
    verdict = data.draw(arrays(np.int8, shape, elements=st.integers(0, 2)))
    score = data.draw(arrays(np.float64, shape, elements=st.floats(allow_nan=True, allow_infinity=False, width=32)))
    benefit = data.draw(arrays(np.float64, shape, elements=st.one_of(st.just(np.nan), st.floats(0, 1e9))))
    idx = order_candidates(verdict, score, benefit)
    ranked = np.take_along_axis(verdict, idx, axis=1) >= 1
    assert np.all(np.diff(ranked.astype(int), axis=1) <= 0)
    assert all(sorted(row) == list(range(shape[1])) for row in idx.tolist())        # a permutation
    # among candidates, scores never increase down the order (NaN last)
    s = np.where(np.isnan(score), -np.inf, score)
    ranked_scores = np.take_along_axis(s, idx, axis=1)
    for r in range(shape[0]):
        cand = ranked_scores[r][ranked[r]]
        assert np.all(cand[:-1] >= cand[1:])


def test_an_undetermined_policy_may_rank_above_an_eligible_one() -> None:
    verdict = np.array([[2, 1, 0]])
    score = np.array([[0.1, 0.9, 5.0]])
    assert order_candidates(verdict, score).tolist() == [[1, 0, 2]]
    assert order(verdict, score).tolist() == [[0, 1, 2]]                  # rules-v1 keeps verdict first
