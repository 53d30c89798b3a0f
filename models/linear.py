"""A fitted :class:`~models.baselines.LogisticBaseline` as plain numbers: ship it without pickle.

The baseline's pipeline (one-hot of the category-code columns, median imputation with
missing indicators, standardisation, logistic regression) is linear in the encoded columns,
so its decision function folds into ``b + Σ w_j z_j`` over the encoded row ``z``.
:class:`LinearScorer` holds the encoding's parameters and the folded weights as JSON and
computes the decision function with numpy; a test holds it equal to the pipeline's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


def _same(values: np.ndarray, category: float) -> np.ndarray:
    return np.isnan(values) if category != category else values == category


@dataclass(frozen=True)
class LinearScorer:
    """Decision function of a fitted logistic baseline, numpy only."""

    categorical: tuple[tuple[int, tuple[float, ...]], ...]   # (input column, its categories)
    numeric: tuple[int, ...]                                  # input columns, imputed
    medians: tuple[float, ...]
    indicators: tuple[int, ...]                               # input columns with a missing flag
    weights: tuple[float, ...]                                # per encoded column, scaling folded in
    bias: float
    feature_names: tuple[str, ...]

    @classmethod
    def from_baseline(cls, baseline: Any) -> LinearScorer:
        """Read the parameters of a fitted :class:`~models.baselines.LogisticBaseline`."""
        pipe = baseline.pipeline_
        encode, scaler, lr = pipe.steps[0][1], pipe.steps[1][1], pipe.steps[2][1]
        transformers = {name: (est, cols) for name, est, cols in encode.transformers_}
        onehot, cat_cols = transformers["categories"]
        imputer, num_cols = transformers["numeric"]
        categorical = tuple((int(c), tuple(float(v) for v in cats))
                            for c, cats in zip(cat_cols, onehot.categories_, strict=True)) if len(cat_cols) else ()
        num = tuple(int(c) for c in num_cols)
        flags = tuple(num[int(j)] for j in getattr(imputer.indicator_, "features_", [])) if num else ()
        coef = lr.coef_[0] / scaler.scale_
        return cls(categorical, num, tuple(float(m) for m in imputer.statistics_) if num else (), flags,
                   tuple(float(w) for w in coef), float(lr.intercept_[0] - np.dot(coef, scaler.mean_)),
                   tuple(str(n) for n in baseline.feature_names_in_))

    def encode(self, X: np.ndarray) -> np.ndarray:
        """The encoded rows ``z`` (one-hot, imputed numeric, missing flags)."""
        X = np.asarray(X, dtype="float64")
        blocks = [np.stack([_same(X[:, c], v) for v in cats], axis=1).astype("float64")
                  for c, cats in self.categorical]
        if self.numeric:
            num = X[:, list(self.numeric)]
            blocks.append(np.where(np.isnan(num), np.asarray(self.medians), num))
        if self.indicators:
            blocks.append(np.isnan(X[:, list(self.indicators)]).astype("float64"))
        return np.hstack(blocks) if blocks else np.zeros((len(X), 0))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Decision function (log-odds of approval) per row."""
        return self.encode(X) @ np.asarray(self.weights) + self.bias

    def to_json(self) -> dict[str, Any]:
        def num(v: float) -> float | None:
            return None if v != v else v
        return {"categorical": [[c, [num(v) for v in cats]] for c, cats in self.categorical],
                "numeric": list(self.numeric), "medians": list(self.medians),
                "indicators": list(self.indicators), "weights": list(self.weights), "bias": self.bias,
                "feature_names": list(self.feature_names)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LinearScorer:
        def num(v: float | None) -> float:
            return float("nan") if v is None else float(v)
        scorer = cls(tuple((int(c), tuple(num(v) for v in cats)) for c, cats in data["categorical"]),
                     tuple(int(c) for c in data["numeric"]), tuple(float(m) for m in data["medians"]),
                     tuple(int(c) for c in data["indicators"]), tuple(float(w) for w in data["weights"]),
                     float(data["bias"]), tuple(str(n) for n in data["feature_names"]))
        width = sum(len(c) for _, c in scorer.categorical) + len(scorer.numeric) + len(scorer.indicators)
        if width != len(scorer.weights) or len(scorer.medians) != len(scorer.numeric):
            raise ValueError(f"{len(scorer.weights)} weights for {width} encoded columns")
        return scorer


__all__ = ["LinearScorer"]
