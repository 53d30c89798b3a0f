"""The fitted pair-feature encoding, applied with numpy alone.

:class:`~features.transformers.PairFeatures` (the scikit-learn transformer) learns the state:
categories per categorical column and a character n-gram TF-IDF vocabulary with its idf.
:class:`PairEncoder` holds that state and turns a pair table into the float matrix. Serving
uses it directly, so matching a firm never imports scikit-learn (about 2 s of start-up).

The TF-IDF is scikit-learn's ``TfidfVectorizer(analyzer="char_wb", norm="l2",
smooth_idf=True, sublinear_tf=False)`` transform: lower-case, split on white space, pad each
word with one space, count its character n-grams that are in the vocabulary, weight by idf,
L2-normalise (a test holds the two equal).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from features.pair_table import PairTable

SIMILARITY = "scope_policy_similarity"


def signed_log(x: np.ndarray) -> np.ndarray:
    """``sign(x) * log1p(|x|)``; NaN stays NaN.

    >>> signed_log(np.array([0.0, -9.0, np.nan])).round(3).tolist()[:2]
    [0.0, -2.303]
    """
    return np.sign(x) * np.log1p(np.abs(x))


def char_wb_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """scikit-learn's ``char_wb`` analyser (after lower-casing): n-grams inside padded words."""
    lo, hi = ngram_range
    grams: list[str] = []
    for word in text.lower().split():
        w = f" {word} "
        for n in range(lo, hi + 1):
            offset = 0
            grams.append(w[offset:offset + n])
            while offset + n < len(w):
                offset += 1
                grams.append(w[offset:offset + n])
            if offset == 0:              # a word shorter than n is counted once
                break
    return grams


def _floats(values: Any) -> np.ndarray:
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    return np.asarray(values, dtype="float64")


def _runs(blocks: list[tuple[int, np.ndarray]]) -> list[tuple[int, int, np.ndarray]]:
    """Blocks placed at adjacent output columns merged into ``(start, stop, matrix)`` runs."""
    runs: list[tuple[int, int, list[np.ndarray]]] = []
    for start, block in sorted(blocks, key=lambda b: b[0]):
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], start + block.shape[1], [*runs[-1][2], block])
        else:
            runs.append((start, start + block.shape[1], [block]))
    return [(a, b, np.hstack(m) if len(m) > 1 else m[0]) for a, b, m in runs]


class PairEncoder:
    """Pair table → float matrix of firm, policy, pair and text-similarity features.

    Numeric columns pass through (those in ``log_columns`` on a signed log scale, NaN kept
    for LightGBM), categoricals are one-hot over ``categories`` (unknown or unseen: all
    zero), and the last column is the cosine similarity of the two ``text`` columns.
    """

    def __init__(self, numeric: Sequence[str], log_columns: Sequence[str], categorical: Sequence[str],
                 text: tuple[str, str], ngram_range: tuple[int, int], categories: Mapping[str, Sequence[str]],
                 vocabulary: Mapping[str, int], idf: Sequence[float]) -> None:
        self.numeric = tuple(numeric)
        self.log_columns = frozenset(log_columns)
        self.categorical = tuple(categorical)
        self.text = (text[0], text[1])
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.categories = {c: list(categories[c]) for c in self.categorical}
        self.vocabulary = {str(k): int(v) for k, v in vocabulary.items()}
        self.idf = np.asarray(idf, dtype="float64")
        self._lookup = {c: {v: i for i, v in enumerate(self.categories[c])} for c in self.categorical}
        self._text_cache: dict[tuple[str, ...], np.ndarray] = {}
        logs = self.log_columns
        names = [f"log_{c}" if c in logs else c for c in self.numeric]
        names += [f"{c}={v}" for c in self.categorical for v in self.categories[c]]
        names.append(SIMILARITY)
        self.feature_names: list[str] = names

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> PairEncoder:
        """From :meth:`features.transformers.PairFeatures.get_state` output."""
        p = state["params"]
        return cls(p["numeric"], p["log_columns"], p["categorical"], (p["text"][0], p["text"][1]),
                   (p["ngram_range"][0], p["ngram_range"][1]), state["categories"], state["vocabulary"],
                   state["idf"])

    def columns(self) -> list[str]:
        """The pair-table columns the encoding reads."""
        return [*self.numeric, *self.categorical, *self.text]

    def transform(self, X: pd.DataFrame | PairTable) -> np.ndarray:
        """Float64 matrix ``(len(X), len(feature_names))``; NaN where unknown.

        ``X`` is a flat pair DataFrame or a :class:`~features.pair_table.PairTable`; a column
        kept at firm or policy level is encoded once per firm or policy, then spread to pairs
        by copying whole rows of a per-level block.
        """
        table = X if isinstance(X, PairTable) else PairTable.from_frame(X)
        missing = table.missing(self.columns())
        if missing:
            raise ValueError(f"pair table is missing column(s) {missing}")
        parts: dict[int, list[tuple[int, np.ndarray]]] = {}      # id(index) -> (first column, block)
        indexes: dict[int, np.ndarray | None] = {}
        j = 0
        for c in self.numeric:
            values, index = table.level(c)
            values = _floats(values)
            if c in self.log_columns:
                values = signed_log(values)
            parts.setdefault(id(index), []).append((j, values[:, None]))
            indexes[id(index)] = index
            j += 1
        for c in self.categorical:
            values, index = table.level(c)
            codes = self.codes(c, values)
            onehot = np.zeros((len(codes), len(self.categories[c])))
            hit = np.flatnonzero(codes >= 0)
            onehot[hit, codes[hit]] = 1.0
            parts.setdefault(id(index), []).append((j, onehot))
            indexes[id(index)] = index
            j += onehot.shape[1]
        out = np.empty((len(table), j + 1))
        for key, blocks in parts.items():
            index = indexes[key]
            for start, stop, block in _runs(blocks):
                out[:, start:stop] = block if index is None else block[index]
        out[:, j] = self.similarity(table)
        return out

    def codes(self, column: str, values: Any) -> np.ndarray:
        """Position of each value among the categories (by ``str``); -1 if unknown or unseen."""
        lookup = self._lookup[column]
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
        mapped = np.array([lookup.get(str(u), -1) for u in uniques] + [-1], dtype=np.int64)
        return mapped[codes]                       # code -1 (missing) picks the trailing -1

    def category_code(self, column: str, value: object) -> int:
        """:meth:`codes` of a single value: its position among the categories, -1 if unknown
        (``None`` or NaN, as ``pandas.factorize`` sees it) or unseen."""
        if value is None or (isinstance(value, float) and value != value):
            return -1
        return self._lookup[column].get(str(value), -1)

    def text_columns(self, texts: list[str]) -> np.ndarray:
        """Texts as the columns of a dense tf-idf matrix (for :meth:`cosines`)."""
        return self._dense(texts, keep=False)

    def cosines(self, texts: list[str], dense: np.ndarray) -> np.ndarray:
        """``(len(texts), dense columns)`` cosine similarities, as :meth:`similarity` computes them."""
        return self._cosines(texts, dense)

    def similarity(self, table: PairTable) -> np.ndarray:
        """Cosine similarity of the two text columns; NaN where either text is unknown.

        Each distinct text is vectorised once; the second column's texts (the catalog's
        policy texts: few) are held dense, and kept between calls at policy level.
        """
        sides = []
        for name in self.text:
            values, index = table.level(name)
            codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
            sides.append((codes if index is None else codes[index], [str(u) for u in uniques],
                          name in table.policies))
        (a_codes, a_uni, _), (b_codes, b_uni, b_keep) = sides
        if not a_uni or not b_uni:
            return np.full(len(table), np.nan)
        sims = self._cosines(a_uni, self._dense(b_uni, keep=b_keep))
        out = sims[np.maximum(a_codes, 0), np.maximum(b_codes, 0)]
        out[(a_codes < 0) | (b_codes < 0)] = np.nan
        return out

    def _vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(vocabulary indices, L2-normalised tf-idf weights) of one text."""
        counts: dict[int, int] = {}
        vocab = self.vocabulary
        for gram in char_wb_ngrams(text, self.ngram_range):
            k = vocab.get(gram)
            if k is not None:
                counts[k] = counts.get(k, 0) + 1
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        w = np.fromiter(counts.values(), dtype="float64", count=len(counts)) * self.idf[idx]
        norm = np.sqrt(np.dot(w, w))
        return idx, (w / norm if norm > 0 else w)

    def _dense(self, texts: list[str], *, keep: bool) -> np.ndarray:
        """Texts as the columns of a dense ``(vocabulary size, len(texts))`` tf-idf matrix."""
        key = tuple(texts)
        if key in self._text_cache:
            return self._text_cache[key]
        out = np.zeros((len(self.idf), len(texts)))
        for i, text in enumerate(texts):
            idx, w = self._vector(text)
            out[idx, i] = w
        if keep:
            if len(self._text_cache) >= 8:
                self._text_cache.clear()
            self._text_cache[key] = out
        return out

    def _cosines(self, texts: list[str], dense: np.ndarray) -> np.ndarray:
        """``(len(texts), dense columns)`` dot products of each text's vector with each column.

        Summed term by term down contiguous rows, so a cosine does not depend on which other
        texts are in ``dense`` (a BLAS dot product's order does).
        """
        out = np.empty((len(texts), dense.shape[1]))
        for i, text in enumerate(texts):
            idx, w = self._vector(text)
            out[i] = (dense[idx] * w[:, None]).sum(axis=0)
        return out
