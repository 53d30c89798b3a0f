"""LambdaRank over firm queries: a thin wrapper of :class:`lightgbm.LGBMRanker` by composition.

A query is one firm; its documents are its candidate policies. ``group`` is derived from a
query-id column after a stable sort, and checked (``sum(group) == n_rows``) before LightGBM
sees it. The fitted model is a :class:`lightgbm.Booster`, saved as text by
:mod:`models.artifacts`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np

from models.errors import NotFittedError
from models.prediction import categorical_columns, predict_threads

EVAL_AT: tuple[int, ...] = (5, 10)


def group_sizes(query_ids: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable order that makes each query contiguous, and the query sizes in that order.

    Raises
    ------
    ValueError
        When the sizes do not add up to ``n_rows`` (e.g. ``query_ids`` is not one id per row).
    """
    q = np.asarray(query_ids)
    order = np.argsort(q, kind="stable")
    _, sizes = np.unique(q[order], return_counts=True)
    check_groups(sizes, n_rows)
    return order, sizes


def check_groups(group: np.ndarray, n_rows: int) -> None:
    """Refuse a grouping whose sizes do not sum to the number of rows."""
    total = int(np.sum(group))
    if total != n_rows:
        raise ValueError(f"query groups cover {total} rows but X has {n_rows} rows; "
                         "give one query id per row")


class LambdaRanker:
    """LambdaRank ranker of candidate policies per firm.

    Parameters
    ----------
    n_estimators : int, default 200
    learning_rate : float, default 0.05
    num_leaves : int, default 15
    min_child_samples : int, default 200
    label_gain : sequence of float, default (0, 1, 3, 7)
        Gain per graded label (``2^label − 1``).
    eval_at : sequence of int, default (5, 10)
    truncation_level : int, default 12
        ``lambdarank_truncation_level``: a little above the largest cut-off.
    query_fraction : float, default 1.0
        Share of queries (firms) drawn afresh for each tree (``bagging_by_query``); below 1 it
        cuts the cost of a tree in proportion and regularises.
    feature_fraction : float, default 1.0
        Share of features each tree may split on (``colsample_bytree``).
    max_bin : int, default 255
        Histogram bins per feature.
    random_state : int, default 0
    n_jobs : int, default 2
    lgb_params : mapping, optional
        Further LightGBM parameters (experiments, e.g. ``{"path_smooth": 50}``).
    """

    def __init__(self, n_estimators: int = 200, learning_rate: float = 0.05, num_leaves: int = 15,
                 min_child_samples: int = 200, label_gain: Sequence[float] = (0.0, 1.0, 3.0, 7.0),
                 eval_at: Sequence[int] = EVAL_AT, truncation_level: int = 12,
                 query_fraction: float = 1.0, feature_fraction: float = 1.0, max_bin: int = 255,
                 random_state: int = 0, n_jobs: int = 2, lgb_params: Mapping[str, Any] | None = None) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.label_gain = label_gain
        self.eval_at = eval_at
        self.truncation_level = truncation_level
        self.query_fraction = query_fraction
        self.feature_fraction = feature_fraction
        self.max_bin = max_bin
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.lgb_params = lgb_params

    def _extra_params(self) -> dict[str, Any]:
        """Query bagging when ``query_fraction`` < 1, then ``lgb_params`` passed through as given."""
        extra: dict[str, Any] = ({"subsample": self.query_fraction, "subsample_freq": 1, "bagging_by_query": True}
                                 if self.query_fraction < 1.0 else {})
        return {**extra, **dict(self.lgb_params or {})}

    def fit(self, X: np.ndarray, y: np.ndarray, query_ids: np.ndarray,
            feature_names: Sequence[str] | None = None,
            eval_set: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
            categorical: Sequence[str] = ()) -> LambdaRanker:
        """Fit on rows ``X`` with graded labels ``y`` grouped by ``query_ids``.

        ``categorical`` names the columns of ``feature_names`` that hold category codes
        (integers ≥ 0, NaN unknown): the trees split them by category sets.

        Rows need not be sorted: they are stably sorted by query id first.

        Raises
        ------
        ValueError
            When lengths differ or the groups do not cover every row (message names both
            numbers).
        """
        X = np.asarray(X, dtype="float64")
        y = np.asarray(y)
        if len(y) != len(X) or len(query_ids) != len(X):
            raise ValueError(f"X, y and query_ids must have equal length, got {len(X)}, {len(y)} "
                             f"and {len(query_ids)}")
        order, group = group_sizes(query_ids, len(X))
        names = list(feature_names) if feature_names is not None else [f"f{i}" for i in range(X.shape[1])]
        model = lgb.LGBMRanker(
            objective="lambdarank", n_estimators=self.n_estimators, learning_rate=self.learning_rate,
            num_leaves=self.num_leaves, min_child_samples=self.min_child_samples,
            label_gain=list(self.label_gain), lambdarank_truncation_level=self.truncation_level,
            random_state=self.random_state, n_jobs=self.n_jobs, verbose=-1, deterministic=True,
            force_row_wise=True, colsample_bytree=self.feature_fraction, max_bin=self.max_bin,
            **self._extra_params())
        kwargs: dict[str, Any] = {}
        if eval_set is not None:
            Xe, ye, qe = eval_set
            eorder, egroup = group_sizes(qe, len(Xe))
            kwargs = {"eval_set": [(np.asarray(Xe)[eorder], np.asarray(ye)[eorder])],
                      "eval_group": [egroup], "eval_at": list(self.eval_at)}
        model.fit(X[order], y[order], group=group, feature_name=names,
                  categorical_feature=categorical_columns(names, categorical), **kwargs)
        self.booster_ = model.booster_
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(names)
        self.evals_result_ = dict(model.evals_result_) if eval_set is not None else {}
        return self

    @classmethod
    def from_booster(cls, booster: lgb.Booster) -> LambdaRanker:
        """A fitted ranker around a loaded booster."""
        self = cls()
        self.booster_ = booster
        self.feature_names_in_ = np.asarray(booster.feature_name(), dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.evals_result_ = {}
        return self

    def _booster(self) -> lgb.Booster:
        if not hasattr(self, "booster_"):
            raise NotFittedError("this LambdaRanker is not fitted yet: call fit(X, y, query_ids) "
                                 "or load an artifact with models.artifacts.load_artifact")
        return self.booster_

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Scores, comparable only within one query (higher ranks first)."""
        booster = self._booster()
        X = np.asarray(X, dtype="float64")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, the ranker expects {self.n_features_in_}")
        return np.asarray(booster.predict(X, num_threads=predict_threads(len(X), self.n_jobs)))

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Per-feature contributions (``pred_contrib``); last column is the bias."""
        X = np.asarray(X, dtype="float64")
        return np.asarray(self._booster().predict(X, pred_contrib=True,
                                                  num_threads=predict_threads(len(X), self.n_jobs)))

    def importance(self) -> np.ndarray:
        """Total gain per feature, in feature order."""
        return np.asarray(self._booster().feature_importance(importance_type="gain"))
