"""The fitted pair-feature encoding, applied with numpy alone.

:class:`~features.transformers.PairFeatures` (the scikit-learn transformer) learns the state:
categories per categorical column and a character n-gram TF-IDF vocabulary with its idf.
:class:`PairEncoder` holds that state and turns a pair table into the float matrix. Serving
uses it directly, so matching a firm never imports scikit-learn (about 2 s of start-up).

Two paths, one class: :meth:`PairEncoder.transform` encodes a pair table of any shape (bulk
runs, training); serving one firm with a few dozen candidate pairs calls
:meth:`PairEncoder.transform_firm` on policy blocks prepared once per catalog
(:meth:`PairEncoder.prepare_policies`), where the per-column factorisation and the TF-IDF of
the policy texts would cost more than the model. The two give equal matrices (a test holds
them equal).

The text similarity is the cosine of scikit-learn's ``TfidfVectorizer(analyzer="char_wb",
norm="l2")`` vectors, computed by :class:`~features.char_tfidf.CharTfidf` (tests hold the two
equal).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.char_tfidf import CharTfidf
from features.columns import SIMILARITY
from features.pair_table import PairTable

TILE_ROWS = 1024
"""Rows of the feature matrix filled at a time (1,024 × 53 features: 0.4 MB, within L2 cache;
50,000-pair block: 10.5 ms at 1,024 rows, 15 ms at 2,048, 15.6 ms untiled)."""


def signed_log(x: np.ndarray) -> np.ndarray:
    """``sign(x) * log1p(|x|)``; NaN stays NaN.

    >>> signed_log(np.array([0.0, -9.0, np.nan])).round(3).tolist()[:2]
    [0.0, -2.303]
    """
    return np.sign(x) * np.log1p(np.abs(x))


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


def _scalar(value: Any) -> Any:
    """A firm-level value given as a scalar or a one-element array."""
    if isinstance(value, pd.Series):
        return value.iloc[0]
    if isinstance(value, (np.ndarray, list, tuple)):
        return value[0]
    return value


@dataclass(frozen=True)
class PreparedPolicies:
    """The policy-level part of the feature matrix of a policy set, encoded once
    (:meth:`PairEncoder.prepare_policies`), and where the firm and pair columns go."""

    block: np.ndarray                                  # (n_policies, n_features), read-only
    firm_numeric: tuple[tuple[int, str, bool], ...]    # (output column, name, log scale)
    firm_categorical: tuple[tuple[int, str], ...]      # (first output column, name)
    pair_numeric: tuple[tuple[int, str, bool], ...]
    pair_categorical: tuple[tuple[int, str], ...]
    similarity: int                                    # output column of the text similarity
    firm_text: str
    text_codes: np.ndarray                             # policy text code of each policy (-1 unknown)
    text_dense: np.ndarray | None                      # distinct policy texts' tf-idf columns

    @property
    def pair_columns(self) -> list[str]:
        """Columns :meth:`PairEncoder.transform_firm` needs per pair."""
        return [c for _, c, _ in self.pair_numeric] + [c for _, c in self.pair_categorical]


class PairEncoder:
    """Pair table → float matrix of firm, policy, pair and text-similarity features.

    Numeric columns pass through (those in ``log_columns`` on a signed log scale, NaN kept
    for LightGBM). A categorical column is one column of codes, its position among
    ``categories`` (unknown or unseen: NaN), for LightGBM's own categorical splits; or, with
    ``onehot``, one 0/1 column per category (unknown or unseen: all zero), as models before
    the codes were trained on. The last column is the cosine similarity of the two ``text``
    columns.
    """

    def __init__(self, numeric: Sequence[str], log_columns: Sequence[str], categorical: Sequence[str],
                 text: tuple[str, str], ngram_range: tuple[int, int], categories: Mapping[str, Sequence[str]],
                 vocabulary: Mapping[str, int], idf: Sequence[float], *, onehot: bool = False) -> None:
        self.numeric = tuple(numeric)
        self.log_columns = frozenset(log_columns)
        self.categorical = tuple(categorical)
        self.text = (text[0], text[1])
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.categories = {c: list(categories[c]) for c in self.categorical}
        self.vocabulary = {str(k): int(v) for k, v in vocabulary.items()}
        self.idf = np.asarray(idf, dtype="float64")
        self.onehot = bool(onehot)
        self._lookup = {c: {v: i for i, v in enumerate(self.categories[c])} for c in self.categorical}
        self._tfidf = CharTfidf(self.vocabulary, self.idf, self.ngram_range)
        self._text_cache: dict[tuple[str, ...], np.ndarray] = {}
        logs = self.log_columns
        names = [f"log_{c}" if c in logs else c for c in self.numeric]
        names += ([f"{c}={v}" for c in self.categorical for v in self.categories[c]] if self.onehot
                  else list(self.categorical))
        names.append(SIMILARITY)
        self.feature_names: list[str] = names

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> PairEncoder:
        """From :meth:`features.transformers.PairFeatures.get_state` output (a state without
        ``categorical_encoding``, written before codes existed, is one-hot)."""
        p = state["params"]
        return cls(p["numeric"], p["log_columns"], p["categorical"], (p["text"][0], p["text"][1]),
                   (p["ngram_range"][0], p["ngram_range"][1]), state["categories"], state["vocabulary"],
                   state["idf"], onehot=p.get("categorical_encoding", "onehot") == "onehot")

    @property
    def categorical_features(self) -> list[str]:
        """Output columns holding category codes (for LightGBM's ``categorical_feature``);
        empty for a one-hot encoding."""
        return [] if self.onehot else list(self.categorical)

    def categorical_width(self, column: str) -> int:
        """Output columns of one categorical column."""
        return len(self.categories[column]) if self.onehot else 1

    def categorical_block(self, column: str, codes: np.ndarray) -> np.ndarray:
        """``(len(codes), categorical_width(column))`` encoding of :meth:`codes` output."""
        codes = np.asarray(codes, dtype=np.int64)
        if not self.onehot:
            return np.where(codes >= 0, codes, np.nan).astype("float64")[:, None]
        block = np.zeros((len(codes), len(self.categories[column])))
        hit = np.flatnonzero(codes >= 0)
        block[hit, codes[hit]] = 1.0
        return block

    def columns(self) -> list[str]:
        """The pair-table columns the encoding reads."""
        return [*self.numeric, *self.categorical, *self.text]

    def transform(self, X: pd.DataFrame | PairTable, out: np.ndarray | None = None) -> np.ndarray:
        """Float64 matrix ``(len(X), len(feature_names))``; NaN where unknown.

        ``X`` is a flat pair DataFrame or a :class:`~features.pair_table.PairTable`; a column
        kept at firm or policy level is encoded once per firm or policy, then spread to pairs
        by copying whole rows of a per-level block. ``out``, a C-contiguous float64 array of
        that shape, receives the matrix (a caller scoring many blocks reuses one buffer rather
        than faulting in fresh memory for each).
        """
        table = X if isinstance(X, PairTable) else PairTable.from_frame(X)
        missing = table.missing(self.columns())
        if missing:
            raise ValueError(f"pair table is missing column(s) {missing}")
        shape = (len(table), len(self.feature_names))
        if out is None:
            out = np.empty(shape)
        elif out.shape != shape or out.dtype != np.float64 or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous float64 array of shape {shape}")
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
            block = self.categorical_block(c, self.codes(c, values))
            parts.setdefault(id(index), []).append((j, block))
            indexes[id(index)] = index
            j += block.shape[1]
        parts.setdefault(id(None), []).append((j, self.similarity(table)[:, None]))   # a pair column
        indexes[id(None)] = None
        self._place(out, [(indexes[key], _runs(blocks)) for key, blocks in parts.items()])
        return out

    def prepare_policies(self, policies: Mapping[str, Any], firm_columns: Collection[str]) -> PreparedPolicies:
        """Encode the policy-level columns of a policy set once, for :meth:`transform_firm`.

        ``policies`` maps each policy-level column to an array (n_policies,) (column ``cols[i]``
        of a pair indexes these arrays); ``firm_columns`` are given per firm; every other
        column the encoding reads is given per pair. The split is read from the encoding's own
        column lists, so a feature added to it is picked up.

        Raises
        ------
        ValueError
            The text pair is not (firm text, policy text): this shortcut does not apply.
        """
        firm_set = set(firm_columns)
        n_pol = len(next(iter(policies.values())))
        block = np.zeros((n_pol, len(self.feature_names)))
        firm_num: list[tuple[int, str, bool]] = []
        firm_cat: list[tuple[int, str]] = []
        pair_num: list[tuple[int, str, bool]] = []
        pair_cat: list[tuple[int, str]] = []
        j = 0
        for c in self.numeric:
            log = c in self.log_columns
            if c in policies:
                values = _floats(policies[c])
                block[:, j] = signed_log(values) if log else values
            else:
                (firm_num if c in firm_set else pair_num).append((j, c, log))
            j += 1
        for c in self.categorical:
            if c in policies:
                block[:, j:j + self.categorical_width(c)] = self.categorical_block(c, self.codes(c, policies[c]))
            else:
                (firm_cat if c in firm_set else pair_cat).append((j, c))
            j += self.categorical_width(c)
        firm_text, policy_text = self.text
        if firm_text not in firm_set or policy_text not in policies:
            raise ValueError(f"text columns {self.text} are not (firm, policy) columns")
        codes, uniques = pd.factorize(np.asarray(policies[policy_text], dtype=object), use_na_sentinel=True)
        block.flags.writeable = False
        return PreparedPolicies(block, tuple(firm_num), tuple(firm_cat), tuple(pair_num), tuple(pair_cat), j,
                                firm_text, codes, self.text_columns([str(u) for u in uniques]) if len(uniques) else None)

    def transform_firm(self, prepared: PreparedPolicies, firm: Mapping[str, Any], pairs: Mapping[str, Any],
                       cols: np.ndarray) -> np.ndarray:
        """:meth:`transform` of one firm paired with the policies ``cols`` of a prepared set:
        matrix ``(len(cols), n_features)``.

        ``firm`` maps each firm column to its value (a scalar or a one-element array);
        ``pairs`` maps each of :attr:`PreparedPolicies.pair_columns` to an array aligned with ``cols``.
        """
        out = prepared.block[cols]
        if prepared.firm_numeric:
            at = [j for j, _, _ in prepared.firm_numeric]
            logs = np.array([log for _, _, log in prepared.firm_numeric], dtype=bool)
            values = np.array([_scalar(firm[c]) for _, c, _ in prepared.firm_numeric], dtype="float64")
            values[logs] = signed_log(values[logs])
            out[:, at] = values
        for j, c in prepared.firm_categorical:
            row = self.categorical_block(c, np.array([self.category_code(c, _scalar(firm[c]))]))
            out[:, j:j + row.shape[1]] = row
        for j, c, log in prepared.pair_numeric:
            values = _floats(pairs[c])
            out[:, j] = signed_log(values) if log else values
        for j, c in prepared.pair_categorical:
            block = self.categorical_block(c, self.codes(c, pairs[c]))
            out[:, j:j + block.shape[1]] = block
        text = _scalar(firm[prepared.firm_text])
        if text is None or (isinstance(text, float) and text != text) or prepared.text_dense is None:
            out[:, prepared.similarity] = np.nan
        else:
            sims = self.cosines([str(text)], prepared.text_dense)[0]
            codes = prepared.text_codes[cols]
            out[:, prepared.similarity] = np.where(codes < 0, np.nan, sims[np.maximum(codes, 0)])
        return out

    @staticmethod
    def _place(out: np.ndarray, groups: list[tuple[np.ndarray | None, list[tuple[int, int, np.ndarray]]]]) -> None:
        """Write each level's column runs into ``out``, expanding firm/policy rows to pairs.

        The widest expanded level (the firm's, as a rule) is laid into a full-width row
        template and copied with one row gather (``np.take`` into ``out``, the cheapest way
        to fill it); the other levels are gathered narrow and copied column run by run.
        ``out`` is filled :data:`TILE_ROWS` rows at a time: a column run written down a whole
        50,000-pair block touches a cache line per row of a 21 MB matrix, and twenty such
        runs took half the time of :meth:`transform`; within a tile the rows stay in cache.
        """
        expanded = [g for g in groups if g[0] is not None]
        widest = max(expanded, key=lambda g: sum(b - a for a, b, _ in g[1]), default=None)
        template = None
        if widest is not None:
            index, runs = widest
            template = np.zeros((len(runs[0][2]), out.shape[1]))
            for start, stop, block in runs:
                template[:, start:stop] = block
        # other expanded levels: their runs side by side, one row per level row (small)
        narrow = [(index, runs, np.hstack([block for _, _, block in runs]))
                  for index, runs in expanded if widest is None or index is not widest[0]]
        pair_runs = [runs for index, runs in groups if index is None]
        for lo in range(0, len(out), TILE_ROWS):
            hi = min(lo + TILE_ROWS, len(out))
            tile = out[lo:hi]
            if template is not None:
                np.take(template, widest[0][lo:hi], axis=0, out=tile, mode="clip")  # type: ignore[index]  # widest is not None inside this branch
            for index, runs, stacked in narrow:
                assert index is not None                                 # expanded levels have an index
                rows = stacked[index[lo:hi]]
                k = 0
                for start, stop, _ in runs:
                    tile[:, start:stop] = rows[:, k:k + stop - start]
                    k += stop - start
            for runs in pair_runs:
                for start, stop, block in runs:
                    tile[:, start:stop] = block[lo:hi]

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
        return self._tfidf.cosines(texts, dense)

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
        sims = self._tfidf.cosines(a_uni, self._dense(b_uni, keep=b_keep))
        out = sims[np.maximum(a_codes, 0), np.maximum(b_codes, 0)]
        out[(a_codes < 0) | (b_codes < 0)] = np.nan
        return out

    def _dense(self, texts: list[str], *, keep: bool) -> np.ndarray:
        """The texts' tf-idf vectors as dense columns; kept when ``keep`` (the policy texts)."""
        key = tuple(texts)
        cached = self._text_cache.get(key)            # one lookup: safe beside chunk threads
        if cached is not None:
            return cached
        out = self._tfidf.dense(texts)
        if keep:
            if len(self._text_cache) >= 8:
                self._text_cache = {}                 # replaced, not cleared under a reader
            self._text_cache[key] = out
        return out
