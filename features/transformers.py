"""sklearn transformers that turn a pair table into a float feature matrix.

:class:`SignedLog` is a plain array transformer (``sign(x)·log1p(|x|)``, NaN kept) and passes
sklearn's estimator checks. :class:`PairFeatures` reads a pair table by the column names of
:mod:`features.columns`: numeric columns pass through (money on a signed log scale, NaN kept
for LightGBM), a categorical is one column of its code among the categories seen in ``fit``
(for LightGBM's categorical splits; one-hot columns with ``categorical_encoding="onehot"``), and
``scope_policy_similarity`` is the cosine similarity of the firm's business scope and the
policy text under a character n-gram TF-IDF fitted in ``fit``. Its learned state round-trips
through JSON (:meth:`PairFeatures.get_state` / :meth:`PairFeatures.from_state`): no pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted, validate_data

from features.columns import (CATEGORICAL_COLUMNS, LOG_COLUMNS, NUMERIC_COLUMNS, TEXT_COLUMNS)
from features.encoder import PairEncoder, signed_log
from features.pair_table import PairTable



class SignedLog(TransformerMixin, BaseEstimator):
    """Signed log transform of every column of a numeric array (stateless but fitted).

    Missing values (NaN) are kept, so LightGBM can route them.
    """

    def fit(self, X: Any, y: Any = None) -> SignedLog:
        """Record the number of input features (and names when given a DataFrame)."""
        validate_data(self, X, ensure_all_finite="allow-nan", dtype="float64")
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Transformed copy, same shape."""
        check_is_fitted(self, "n_features_in_")
        arr = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype="float64")
        return signed_log(np.asarray(arr, dtype="float64"))

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        """``log_<name>`` for every input feature."""
        check_is_fitted(self, "n_features_in_")
        names = (input_features if input_features is not None
                 else getattr(self, "feature_names_in_", [f"x{i}" for i in range(self.n_features_in_)]))
        return np.asarray([f"log_{n}" for n in names], dtype=object)

    def __sklearn_tags__(self) -> Any:  # sklearn.utils.Tags; sklearn is untyped here
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def _table(X: pd.DataFrame | PairTable, columns: Sequence[str]) -> PairTable:
    table = X if isinstance(X, PairTable) else PairTable.from_frame(X)
    missing = table.missing(columns)
    if missing:
        raise ValueError(f"pair table is missing column(s) {missing}")
    return table


class PairFeatures(TransformerMixin, BaseEstimator):
    """Pair table → float matrix of firm, policy, pair and text-similarity features.

    Parameters
    ----------
    numeric : sequence of str, default ``features.columns.NUMERIC_COLUMNS``
    log_columns : sequence of str, default ``features.columns.LOG_COLUMNS``
        Numeric columns put on a signed log scale (money, counts of yuan-like size).
    categorical : sequence of str, default ``features.columns.CATEGORICAL_COLUMNS``
    categorical_encoding : {"code", "onehot"}, default "code"
        One column of category codes per categorical (NaN when unknown or unseen; the
        models are told these are categorical), or one 0/1 column per category.
    text : (str, str), default ``(business_scope, policy_text)``
    ngram_range : (int, int), default (1, 2)
        Character n-gram range of the TF-IDF (``char_wb`` analyser; suits Chinese text).
    max_features : int, default 2000
        Vocabulary cap of the TF-IDF.
    """

    def __init__(self, numeric: Sequence[str] = NUMERIC_COLUMNS,
                 log_columns: Sequence[str] = LOG_COLUMNS,
                 categorical: Sequence[str] = CATEGORICAL_COLUMNS,
                 text: tuple[str, str] = TEXT_COLUMNS, ngram_range: tuple[int, int] = (1, 2),
                 max_features: int = 2000, categorical_encoding: str = "code") -> None:
        self.numeric = numeric
        self.log_columns = log_columns
        self.categorical = categorical
        self.text = text
        self.ngram_range = ngram_range
        self.max_features = max_features
        self.categorical_encoding = categorical_encoding

    def _columns(self) -> list[str]:
        return [*self.numeric, *self.categorical, *self.text]

    def fit(self, X: pd.DataFrame, y: Any = None) -> PairFeatures:
        """Learn the categories and fit the TF-IDF on the distinct texts of ``X``."""
        if self.categorical_encoding not in ("code", "onehot"):
            raise ValueError(f"categorical_encoding must be 'code' or 'onehot', got {self.categorical_encoding!r}")
        table = _table(X, self._columns())
        self.categories_ = {c: sorted({str(v) for v in pd.unique(table.level(c)[0]) if not pd.isna(v)})
                            for c in self.categorical}
        texts = pd.unique(np.concatenate([[str(v) for v in pd.unique(table.level(t)[0]) if not pd.isna(v)]
                                          for t in self.text]))
        self.vectorizer_ = self._vectorizer(None)
        self.vectorizer_.fit(texts if len(texts) else np.array(["-"]))
        self._fitted()
        return self

    def _vectorizer(self, vocabulary: dict[str, int] | None) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.ngram_range),
                               max_features=self.max_features, vocabulary=vocabulary,
                               dtype=np.float64)

    def _fitted(self) -> None:
        """The encoder of the learned state; the output names are its names (one place)."""
        self.encoder_ = PairEncoder(self.numeric, self.log_columns, self.categorical, self.text,
                                    self.ngram_range, self.categories_, self.vectorizer_.vocabulary_,
                                    self.vectorizer_.idf_, onehot=self.categorical_encoding == "onehot")
        self.n_features_in_ = len(self._columns())
        self.feature_names_out_ = np.asarray(self.encoder_.feature_names, dtype=object)

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        """Output feature names, in column order."""
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()

    def transform(self, X: pd.DataFrame | PairTable) -> np.ndarray:
        """Float64 matrix ``(len(X), len(get_feature_names_out()))``; NaN where unknown.

        ``X`` is a flat pair DataFrame or a :class:`~features.pair_table.PairTable`. The
        encoding itself is :class:`~features.encoder.PairEncoder`'s (the one serving uses).
        """
        check_is_fitted(self, "feature_names_out_")
        _table(X, self._columns())
        return self.encoder_.transform(X)

    # JSON persistence ---------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """Parameters and learned state as JSON-ready data."""
        check_is_fitted(self, "feature_names_out_")
        vocab = {str(k): int(v) for k, v in self.vectorizer_.vocabulary_.items()}
        return {"params": {"numeric": list(self.numeric), "log_columns": list(self.log_columns),
                           "categorical": list(self.categorical), "text": list(self.text),
                           "ngram_range": list(self.ngram_range), "max_features": self.max_features,
                           "categorical_encoding": self.categorical_encoding},
                "categories": self.categories_, "vocabulary": vocab,
                "idf": [float(v) for v in self.vectorizer_.idf_]}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> PairFeatures:
        """Rebuild a fitted transformer from :meth:`get_state` output."""
        p = state["params"]
        self = cls(numeric=tuple(p["numeric"]), log_columns=tuple(p["log_columns"]),
                   categorical=tuple(p["categorical"]), text=(p["text"][0], p["text"][1]),
                   ngram_range=(int(p["ngram_range"][0]), int(p["ngram_range"][1])),
                   max_features=int(p["max_features"]),
                   categorical_encoding=p.get("categorical_encoding", "onehot"))
        self.categories_ = {k: list(v) for k, v in state["categories"].items()}
        vec = self._vectorizer({k: int(v) for k, v in state["vocabulary"].items()})
        vec.idf_ = np.asarray(state["idf"], dtype="float64")
        self.vectorizer_ = vec
        self._fitted()
        return self
