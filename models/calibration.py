"""Calibrated approval probability per (firm, policy) pair.

A LambdaRank score is only comparable within one firm, so the probability shown to users and
used across firms comes from a separate binary classifier (LightGBM) of "approved given an
application", whose raw output is recalibrated on held-out firms by isotonic regression.
The isotonic map is stored as two JSON arrays (thresholds) and applied by linear
interpolation, exactly as :class:`sklearn.isotonic.IsotonicRegression` with
``out_of_bounds="clip"`` predicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np

from models.errors import NotFittedError
from models.isotonic import IsotonicMap
from models.prediction import categorical_columns, predict_threads


class ApprovalModel:
    """Binary classifier of approval plus isotonic calibration fitted on held-out rows.

    Parameters
    ----------
    n_estimators : int, default 150
    learning_rate : float, default 0.05
    num_leaves : int, default 15
    min_child_samples : int, default 50
    random_state : int, default 0
    n_jobs : int, default 2
    lgb_params : mapping, optional
        Further LightGBM parameters (e.g. ``monotone_constraints``).
    """

    def __init__(self, n_estimators: int = 150, learning_rate: float = 0.05, num_leaves: int = 15,
                 min_child_samples: int = 50, random_state: int = 0, n_jobs: int = 2,
                 lgb_params: Mapping[str, Any] | None = None) -> None:
        self.lgb_params = lgb_params
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X: np.ndarray, y: np.ndarray, holdout: np.ndarray,
            feature_names: Sequence[str] | None = None, categorical: Sequence[str] = ()) -> ApprovalModel:
        """Fit the classifier on ``~holdout`` rows and the isotonic map on ``holdout`` rows.

        Parameters
        ----------
        X : array (n, d)
        y : array of 0/1 (n,)
            1 = approved.
        holdout : bool array (n,)
            Rows kept out of the classifier for calibration (split by firm).
        categorical : sequence of str
            Columns of ``feature_names`` holding category codes (categorical splits).
        """
        X = np.asarray(X, dtype="float64")
        y = np.asarray(y).astype(int)
        holdout = np.asarray(holdout, dtype=bool)
        if holdout.all() or not holdout.any():
            raise ValueError("holdout must select some but not all rows")
        names = list(feature_names) if feature_names is not None else [f"f{i}" for i in range(X.shape[1])]
        clf = lgb.LGBMClassifier(
            n_estimators=self.n_estimators, learning_rate=self.learning_rate,
            num_leaves=self.num_leaves, min_child_samples=self.min_child_samples,
            random_state=self.random_state, n_jobs=self.n_jobs, verbose=-1, deterministic=True,
            force_row_wise=True, **dict(self.lgb_params or {}))
        clf.fit(X[~holdout], y[~holdout], feature_name=names,
                categorical_feature=categorical_columns(names, categorical))
        self.booster_ = clf.booster_
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.calibrator_ = IsotonicMap.fit(self._raw(X[holdout]), y[holdout])
        return self

    @classmethod
    def from_parts(cls, booster: lgb.Booster, calibrator: IsotonicMap) -> ApprovalModel:
        """A fitted model from a loaded booster and calibrator."""
        self = cls()
        self.booster_ = booster
        self.feature_names_in_ = np.asarray(booster.feature_name(), dtype=object)
        self.calibrator_ = calibrator
        return self

    def _raw(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "booster_"):
            raise NotFittedError("this ApprovalModel is not fitted yet: call fit or load an artifact")
        X = np.asarray(X, dtype="float64")
        return np.asarray(self.booster_.predict(X, raw_score=True, num_threads=predict_threads(len(X), self.n_jobs)))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probability of approval per row, in [0, 1]."""
        return self.calibrator_(self._raw(X))
