"""The logistic baseline shipped as numbers equals the fitted pipeline, through JSON too."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.baselines import LogisticBaseline
from models.linear import LinearScorer

NAMES = ["revenue", "size_code", "share", "never_known"]


def _fitted(seed: int) -> tuple[LogisticBaseline, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 2000
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 4, n).astype(float), rng.uniform(size=n),
                         np.full(n, np.nan)])
    X[rng.random(n) < 0.2, 0] = np.nan
    X[rng.random(n) < 0.1, 1] = np.nan
    y = (rng.random(n) < 1 / (1 + np.exp(-(2 * X[:, 2] - 1 + (X[:, 1] == 2))))).astype(int)
    return LogisticBaseline(positive_label=1).fit(X, y, np.zeros(n), NAMES, ["size_code"]), X


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 5), rows=st.lists(st.tuples(
    st.one_of(st.just(np.nan), st.floats(-1e6, 1e6)), st.sampled_from([np.nan, 0.0, 1.0, 2.0, 3.0, 9.0]),
    st.one_of(st.just(np.nan), st.floats(0, 1)), st.just(np.nan)), min_size=1, max_size=20))
def test_the_scorer_equals_the_pipeline(seed: int, rows: list[tuple[float, ...]]) -> None:
    baseline, _ = _fitted(seed)
    X = np.array(rows, dtype="float64")
    scorer = LinearScorer.from_json(json.loads(json.dumps(LinearScorer.from_baseline(baseline).to_json())))
    np.testing.assert_allclose(scorer.predict(X), baseline.predict(X), rtol=1e-9, atol=1e-6)


def test_unseen_and_unknown_categories_encode_as_sklearn_does() -> None:
    baseline, X = _fitted(0)
    scorer = LinearScorer.from_baseline(baseline)
    assert [c for c, _ in scorer.categorical] == [1]
    assert np.isnan(scorer.categorical[0][1][-1])        # NaN was seen in training: its own category
    assert scorer.numeric == (0, 2)                      # the never-known column is left out
    assert scorer.indicators == (0,)                     # revenue had missing values


def test_a_scorer_whose_weights_do_not_fit_is_refused() -> None:
    data = LinearScorer.from_baseline(_fitted(0)[0]).to_json()
    data["weights"] = data["weights"][:-1]
    with pytest.raises(ValueError, match="weights for"):
        LinearScorer.from_json(data)
