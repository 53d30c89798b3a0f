"""The logistic baseline's query sample keeps whole queries and is deterministic."""

from __future__ import annotations

import numpy as np

from recommender.learning.training import query_sample


def test_query_sample_keeps_whole_queries_up_to_the_cap() -> None:
    q = np.repeat([f"F{i}" for i in range(200)], 10).astype(object)
    pick = query_sample(q, 500, seed=3)
    assert 0 < pick.sum() <= 500 and pick.sum() % 10 == 0
    for qid in np.unique(q):
        assert len(set(pick[q == qid])) == 1                 # a query is in or out as a whole
    assert np.array_equal(pick, query_sample(q, 500, seed=3))
    assert query_sample(q, 5000, seed=3).all()               # fewer rows than the cap: everything
