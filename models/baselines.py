"""Baselines with the ranker's interface: ``fit(X, y, query_ids, feature_names)`` / ``predict(X)``.

* :class:`RuleOrderBaseline` — the rules-v1 order: verdict, estimated benefit, share of
  criteria met (no learning).
* :class:`PopularityBaseline` — policies most approved before the cut-off first (approvals per
  year in force, ``features.history``).
* :class:`LogisticBaseline` — logistic regression of "approved" on the same features.

Columns are found by feature name, so the baselines see exactly the matrix the ranker sees.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from models.errors import NotFittedError
from models.prediction import categorical_columns


class _Base:
    """Shared plumbing: remember feature names, find columns, refuse use before fit."""

    def _remember(self, X: np.ndarray, feature_names: Sequence[str] | None) -> None:
        X = np.asarray(X)
        names = list(feature_names) if feature_names is not None else [f"f{i}" for i in range(X.shape[1])]
        if len(names) != X.shape[1]:
            raise ValueError(f"feature_names has {len(names)} names but X has {X.shape[1]} columns")
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(names)

    def _column(self, X: np.ndarray, name: str) -> np.ndarray:
        if not hasattr(self, "feature_names_in_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit first")
        names = list(self.feature_names_in_)
        if name not in names:
            raise ValueError(f"{type(self).__name__} needs feature {name!r}, not among the fitted features")
        return np.asarray(X, dtype="float64")[:, names.index(name)]


class RuleOrderBaseline(_Base):
    """rules-v1 as a score: ``1000·verdict + log(benefit) + share_met / 1000``.

    Unknown benefit counts as ``log = −1`` (below any known benefit), mirroring "unknown
    last"; the share of criteria met only breaks ties.

    Parameters
    ----------
    verdict, log_benefit, share_met : str
        Feature names of the verdict code, the signed-log benefit and the share met.
    """

    def __init__(self, verdict: str = "verdict", log_benefit: str = "log_benefit_point",
                 share_met: str = "share_met") -> None:
        self.verdict = verdict
        self.log_benefit = log_benefit
        self.share_met = share_met

    def fit(self, X: np.ndarray, y: np.ndarray, query_ids: np.ndarray,
            feature_names: Sequence[str] | None = None) -> RuleOrderBaseline:
        """Nothing to learn; records the feature names."""
        self._remember(X, feature_names)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Rule score per row (higher first)."""
        v = np.nan_to_num(self._column(X, self.verdict), nan=0.0)
        b = np.nan_to_num(self._column(X, self.log_benefit), nan=-1.0)
        s = np.nan_to_num(self._column(X, self.share_met), nan=0.0)
        return 1000.0 * v + b + s / 1000.0


class PopularityBaseline(_Base):
    """Most-approved policies first: the (log) count of prior approvals per year in force.

    Parameters
    ----------
    popularity : str
        Feature name of the prior count (history before the cut-off); by applications with
        ``"log_policy_prior_applications"``.
    """

    def __init__(self, popularity: str = "log_policy_prior_approvals") -> None:
        self.popularity = popularity

    def fit(self, X: np.ndarray, y: np.ndarray, query_ids: np.ndarray,
            feature_names: Sequence[str] | None = None) -> PopularityBaseline:
        """Nothing to learn; records the feature names."""
        self._remember(X, feature_names)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Popularity score per row (higher first); unknown counts as 0."""
        return np.nan_to_num(self._column(X, self.popularity), nan=0.0)


class LogisticBaseline(_Base):
    """Logistic regression of ``label >= positive_label`` on every feature.

    Missing values are imputed with the median plus a missing-indicator column; columns of
    category codes (``categorical`` in :meth:`fit`) are one-hot encoded (unknown or unseen:
    all zero); then every column is standardised.

    Parameters
    ----------
    positive_label : int, default 2
        Smallest graded label counted as a positive (2 = approved).
    C : float, default 1.0
    max_iter : int, default 500
    """

    def __init__(self, positive_label: int = 2, C: float = 1.0, max_iter: int = 500) -> None:
        self.positive_label = positive_label
        self.C = C
        self.max_iter = max_iter

    def fit(self, X: np.ndarray, y: np.ndarray, query_ids: np.ndarray,
            feature_names: Sequence[str] | None = None, categorical: Sequence[str] = ()) -> LogisticBaseline:
        """Fit the pipeline; ``query_ids`` is accepted for the common interface."""
        self._remember(X, feature_names)
        target = (np.asarray(y) >= self.positive_label).astype(int)
        X = np.asarray(X, dtype="float64")
        names = list(self.feature_names_in_)
        categorical_columns(names, categorical)       # refuses a name that is not a feature
        cat = [names.index(c) for c in categorical]
        # an all-unknown numeric column cannot be imputed: left out
        num = [j for j in range(X.shape[1]) if j not in cat and not np.all(np.isnan(X[:, j]))]
        encode = ColumnTransformer([
            ("categories", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cat),
            ("numeric", SimpleImputer(strategy="median", add_indicator=True), num)])
        self.pipeline_: Pipeline = make_pipeline(
            encode, StandardScaler(), LogisticRegression(C=self.C, max_iter=self.max_iter))
        self.pipeline_.fit(X, target)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Decision function (log-odds of approval) per row."""
        if not hasattr(self, "pipeline_"):
            raise NotFittedError("this LogisticBaseline is not fitted yet: call fit first")
        return np.asarray(self.pipeline_.decision_function(np.asarray(X, dtype="float64")))
