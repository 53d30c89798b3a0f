"""LambdaRank wrapper: grouping checks, not-fitted errors, a tiny fit, baselines' interface."""

from __future__ import annotations

import numpy as np
import pytest

from models.baselines import LogisticBaseline, PopularityBaseline, RuleOrderBaseline
from models.errors import NotFittedError
from models.ranker import LambdaRanker, check_groups, group_sizes


def _data(n_q: int = 40, per: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_q * per, 3))
    y = np.clip(np.round(X[:, 0] + 1), 0, 3).astype(int)
    q = np.repeat(np.arange(n_q), per)
    perm = rng.permutation(len(q))
    return X[perm], y[perm], q[perm]


def test_groups_must_cover_every_row() -> None:
    with pytest.raises(ValueError, match=r"^query groups cover 5 rows but X has 6 rows; give one query id per row$"):
        check_groups(np.array([2, 3]), 6)


def test_fit_refuses_query_ids_of_another_length() -> None:
    X, y, q = _data()
    with pytest.raises(ValueError, match=r"^X, y and query_ids must have equal length, got 240, 240 and 239$"):
        LambdaRanker(n_estimators=5).fit(X, y, q[:-1])


def test_group_sizes_sorts_stably() -> None:
    order, sizes = group_sizes(np.array(["b", "a", "b", "a", "c"]), 5)
    assert order.tolist() == [1, 3, 0, 2, 4]
    assert sizes.tolist() == [2, 2, 1]


def test_not_fitted_has_a_hint() -> None:
    with pytest.raises(NotFittedError, match=r"^this LambdaRanker is not fitted yet: call fit"):
        LambdaRanker().predict(np.zeros((1, 3)))


def test_tiny_ranker_learns_the_signal() -> None:
    X, y, q = _data()
    r = LambdaRanker(n_estimators=20, min_child_samples=5).fit(X, y, q, ["a", "b", "c"])
    s = r.predict(X)
    assert np.corrcoef(s, X[:, 0])[0, 1] > 0.8
    assert r.importance().argmax() == 0


def test_baselines_share_the_interface() -> None:
    X, y, q = _data()
    names = ["verdict", "log_benefit_point", "share_met"]
    rules = RuleOrderBaseline().fit(X, y, q, names)
    assert rules.predict(np.array([[2.0, np.nan, 0.5]])).tolist() == [2000.0 - 1.0 + 0.0005]
    with pytest.raises(ValueError, match=r"^PopularityBaseline needs feature 'log_policy_prior_approvals'"):
        PopularityBaseline().fit(X, y, q, names).predict(X)
    lr = LogisticBaseline().fit(X, y, q, names)
    assert lr.predict(X).shape == (len(X),)


def test_query_bagging_is_deterministic_and_fits() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4))
    q = np.repeat(np.arange(60), 10)
    y = (X[:, 0] > 0.5).astype(int) + (X[:, 1] > 1).astype(int)
    kw = dict(n_estimators=15, min_child_samples=5, query_fraction=0.5, feature_fraction=0.75, max_bin=31)
    a = LambdaRanker(**kw).fit(X, y, q).predict(X)
    b = LambdaRanker(**kw).fit(X, y, q).predict(X)
    assert np.array_equal(a, b)
    assert np.corrcoef(a, X[:, 0])[0, 1] > 0.5


def _categorical_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Six categories in column 0 (codes, NaN unknown); relevant exactly in categories 1 and 4."""
    rng = np.random.default_rng(1)
    codes = np.tile(np.arange(6, dtype=float), 100)
    X = np.column_stack([codes, rng.normal(size=len(codes))])
    y = np.isin(codes, [1, 4]).astype(int)
    return X, y, np.repeat(np.arange(60), 10)


def test_ranker_splits_category_codes_by_set() -> None:
    X, y, q = _categorical_data()
    r = LambdaRanker(n_estimators=1, num_leaves=2, min_child_samples=5,
                     lgb_params={"min_data_per_group": 5, "cat_smooth": 1}).fit(X, y, q, ["kind", "noise"],
                                                                                 categorical=["kind"])
    s = r.predict(np.column_stack([np.arange(6.0), np.zeros(6)]))
    assert {int(k) for k in np.flatnonzero(s == s.max())} == {1, 4}   # one split: a set, not a threshold
    assert s.max() > s.min()


def test_categorical_columns_must_be_features() -> None:
    X, y, q = _categorical_data()
    with pytest.raises(ValueError, match=r"^categorical column\(s\) \['size'\] are not among the feature names$"):
        LambdaRanker(n_estimators=1).fit(X, y, q, ["kind", "noise"], categorical=["size"])
    with pytest.raises(ValueError, match=r"^categorical column\(s\) \['size'\] are not among the feature names$"):
        LogisticBaseline().fit(X, y, q, ["kind", "noise"], categorical=["size"])


def test_logistic_baseline_one_hot_encodes_codes() -> None:
    X, y, q = _categorical_data()
    lr = LogisticBaseline().fit(X, 2 * y, q, ["kind", "noise"], categorical=["kind"])   # 2 = approved
    s = lr.predict(np.column_stack([[0.0, 1, 2, 3, 4, 5, np.nan, 9], np.zeros(8)]))
    assert set(np.argsort(-s[:6])[:2].tolist()) == {1, 4}        # not monotone in the code
    assert s[6] == s[7]                                        # unknown and unseen: all zero
