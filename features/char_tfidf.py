"""A fitted character n-gram TF-IDF, applied to many texts at once with numpy.

It reproduces scikit-learn's ``TfidfVectorizer(analyzer="char_wb", norm="l2")`` transform
(lower-case, split on white space, pad each word with one space, count the n-grams of each
padded word that are in the vocabulary, weight by idf, L2-normalise); tests hold it equal to
scikit-learn and to :func:`char_wb_ngrams`, the plain-Python reading of the analyser.

Why vectorised: a registry's business scopes are nearly all distinct, so a bulk run meets
tens of thousands of new texts per chunk; a Python loop over each text's n-grams costs tens
of microseconds per firm. Here all texts of a call are joined into one array of code points
(each padded word keeps its spaces, so two words, or two texts, meet at a double space), an
n-gram is a window with no double space inside, encoded as one int64 key and looked up in
the sorted vocabulary keys. For n-grams longer than :data:`MAX_VECTORISED_N` the analyser
runs per text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

MAX_VECTORISED_N = 3
"""Three 21-bit code points fit one int64 key."""
_BITS = 21
_PAD = (1 << _BITS) - 1          # fills the unused places of a shorter n-gram's key (not a code point)
_SPACE = 32
_BLOCK_ENTRIES = 4096
_FEW_TEXTS = 4                     # up to this many texts, n-grams are read per text
_MAX_BIGRAM_TABLE = 2_000_000      # cells of the bigram table (distinct bigram characters + 1, squared)


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


def _key(gram: str) -> int:
    key = 0
    for i in range(MAX_VECTORISED_N):
        key = (key << _BITS) | (ord(gram[i]) if i < len(gram) else _PAD)
    return key


class CharTfidf:
    """``vocabulary`` (n-gram → column), ``idf`` per column, ``ngram_range`` as fitted."""

    def __init__(self, vocabulary: Mapping[str, int], idf: Sequence[float] | np.ndarray,
                 ngram_range: tuple[int, int]) -> None:
        self.vocabulary = {str(k): int(v) for k, v in vocabulary.items()}
        self.idf = np.asarray(idf, dtype="float64")
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        usable = {g: i for g, i in self.vocabulary.items() if 0 < len(g) <= MAX_VECTORISED_N}
        keys = np.array([_key(g) for g in usable], dtype=np.int64)
        order = np.argsort(keys)
        self._keys = keys[order]
        self._columns = np.array(list(usable.values()), dtype=np.int64)[order]
        # Direct tables for unigrams and bigrams (one gather instead of a binary search):
        # code point -> column, and code point -> char id, (char id, char id) -> column.
        short = [g for g in usable if len(g) <= 2]
        self._top = max((ord(c) for g in short for c in g), default=0)
        self._uni = np.full(self._top + 2, -1, dtype=np.int32)      # last slot: out of range
        chars = sorted({c for g in short if len(g) == 2 for c in g})
        self._char_id = np.full(self._top + 2, -1, dtype=np.int32)
        self._char_id[[ord(c) for c in chars]] = np.arange(len(chars))
        self._bi = np.full((len(chars) + 1, len(chars) + 1), -1, dtype=np.int32) \
            if (len(chars) + 1) ** 2 <= _MAX_BIGRAM_TABLE else None
        for g in short:
            if len(g) == 1:
                self._uni[ord(g)] = usable[g]
            elif self._bi is not None:
                self._bi[self._char_id[ord(g[0])], self._char_id[ord(g[1])]] = usable[g]

    def vectors(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The texts' L2-normalised tf-idf vectors as CSR parts ``(indptr, columns, weights)``;
        within a text the columns are in increasing order (so sums over them do not depend
        on the other texts of the call)."""
        text_of, columns = self._grams(texts)
        cells, counts = np.unique(text_of * len(self.idf) + columns, return_counts=True)
        text_of, columns = np.divmod(cells, len(self.idf))
        weights = counts * self.idf[columns]
        indptr = np.searchsorted(text_of, np.arange(len(texts) + 1))
        norms = np.zeros(len(texts))
        filled = np.flatnonzero(np.diff(indptr) > 0)
        if len(filled):
            norms[filled] = np.sqrt(np.add.reduceat(weights * weights, indptr[filled]))
        norm = norms[text_of]
        weights = np.divide(weights, norm, out=weights, where=norm > 0)
        return indptr, columns, weights

    def dense(self, texts: Sequence[str]) -> np.ndarray:
        """Texts as the columns of a dense ``(vocabulary size, len(texts))`` matrix."""
        indptr, columns, weights = self.vectors(texts)
        out = np.zeros((len(self.idf), len(texts)))
        out[columns, np.repeat(np.arange(len(texts)), np.diff(indptr))] = weights
        return out

    def cosines(self, texts: Sequence[str], dense: np.ndarray) -> np.ndarray:
        """``(len(texts), dense columns)``: each text's vector dotted with each column of
        ``dense``, summed column by column of the vocabulary in increasing order."""
        indptr, columns, weights = self.vectors(texts)
        out = np.zeros((len(texts), dense.shape[1]))
        # Texts in blocks of about _BLOCK_ENTRIES n-grams: the (n-grams × columns) products of a
        # block stay in cache (all texts at once: 400 MB of temporaries for 20k scopes, 17x slower).
        step = max(1, _BLOCK_ENTRIES * len(texts) // max(len(columns), 1))
        for first in range(0, len(texts), step):
            last = min(first + step, len(texts))
            lo, hi = indptr[first], indptr[last]
            starts = indptr[first:last + 1] - lo
            filled = np.flatnonzero(np.diff(starts) > 0)
            if len(filled):
                products = dense[columns[lo:hi]] * weights[lo:hi, None]
                out[first + filled] = np.add.reduceat(products, starts[filled], axis=0)
        return out

    def _grams(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(text position, vocabulary column)`` of every in-vocabulary n-gram of the texts."""
        lo, hi = self.ngram_range
        if hi > MAX_VECTORISED_N or len(texts) <= _FEW_TEXTS:      # (one firm: the array set-up costs more)
            return self._grams_per_text(texts)
        padded = [" " + "  ".join(words) + " " if (words := t.lower().split()) else "" for t in texts]
        lengths = np.fromiter((len(p) for p in padded), dtype=np.int64, count=len(padded))
        points = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        owner = np.repeat(np.arange(len(texts)), lengths)
        double = np.zeros(len(points), dtype=bool)          # a double space starts here
        if len(points) > 1:
            double[:-1] = (points[:-1] == _SPACE) & (points[1:] == _SPACE)
        found_text, found_col = [], []
        for n in range(lo, hi + 1):
            starts = len(points) - n + 1
            if starts <= 0:
                break
            ok = np.ones(starts, dtype=bool)                 # no double space inside the window
            for i in range(n - 1):
                ok &= ~double[i:i + starts]
            at, cols = self._lookup(points, n, starts, ok)
            found_text.append(owner[at])
            found_col.append(cols)
        if not found_text:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(found_text), np.concatenate(found_col)

    def _lookup(self, points: np.ndarray, n: int, starts: int, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(window starts, columns)`` of the in-vocabulary n-grams among the ``ok`` windows."""
        if n <= 2 and (n == 1 or self._bi is not None):
            clipped = np.minimum(points, self._top + 1)               # beyond the tables: no gram
            if n == 1:
                cols = self._uni[clipped]
            else:
                ids = self._char_id[clipped]
                first, second = ids[:-1], ids[1:]
                assert self._bi is not None                              # checked above (n == 2)
                cols = self._bi[first, second]                           # id -1 reads the unused last row/column
            hit = np.flatnonzero(ok & (cols >= 0))
            return hit, cols[hit].astype(np.int64)
        key = np.zeros(starts, dtype=np.int64)
        for i in range(MAX_VECTORISED_N):
            key <<= _BITS
            key |= points[i:i + starts] if i < n else _PAD
        at = np.searchsorted(self._keys, key).clip(max=max(len(self._keys) - 1, 0))
        hit = np.flatnonzero(ok & (self._keys[at] == key)) if len(self._keys) else np.zeros(0, dtype=np.int64)
        return hit, self._columns[at[hit]]

    def _grams_per_text(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        text_of: list[int] = []
        cols: list[int] = []
        for t, text in enumerate(texts):
            for gram in char_wb_ngrams(text, self.ngram_range):
                col = self.vocabulary.get(gram)
                if col is not None:
                    text_of.append(t)
                    cols.append(col)
        return np.array(text_of, dtype=np.int64), np.array(cols, dtype=np.int64)
