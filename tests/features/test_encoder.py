"""The numpy-only encoder reproduces scikit-learn's TF-IDF and the fitted transformer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from features.char_tfidf import CharTfidf, char_wb_ngrams

ALPHABET = st.sampled_from(list("软件开发汽车零部件制造信息技术咨询研发 ABCabc1\t\n,.-"))
TEXTS = st.text(ALPHABET, min_size=0, max_size=40)
CORPUS = ["软件开发 信息技术咨询", "汽车零部件制造", "研发投入奖励 Software R&D", "ABC abc  汽车", "x"]


def test_char_wb_ngrams_match_scikit_learn() -> None:
    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2)).build_analyzer()
    for text in [*CORPUS, "", "  a  ", "Ab\tcD"]:
        assert char_wb_ngrams(text, (1, 2)) == analyzer(text)
    assert char_wb_ngrams("ab", (1, 2)) == [" ", "a", "b", " ", " a", "ab", "b "]


@settings(max_examples=80, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=6))
def test_tfidf_cosines_match_scikit_learn(texts) -> None:  # type: ignore[no-untyped-def]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), max_features=40, dtype=np.float64).fit(CORPUS)
    tfidf = CharTfidf(vec.vocabulary_, vec.idf_, (1, 2))
    want = (vec.transform(texts) @ vec.transform(CORPUS).T).toarray()
    got = tfidf.cosines(texts, tfidf.dense(CORPUS))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=6), st.sampled_from([(1, 1), (1, 2), (2, 2), (1, 3), (2, 4)]))
def test_tfidf_vectors_match_scikit_learn(texts, ngram_range) -> None:  # type: ignore[no-untyped-def]
    """Vectors, not only cosines, for n-gram ranges done vectorised and the per-text range (2, 4)."""
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, dtype=np.float64).fit([*CORPUS, *texts])
    tfidf = CharTfidf(vec.vocabulary_, vec.idf_, ngram_range)
    np.testing.assert_allclose(tfidf.dense(texts).T, vec.transform(texts).toarray(), rtol=0, atol=1e-12)


def test_tfidf_edge_texts() -> None:
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), dtype=np.float64).fit(CORPUS)
    tfidf = CharTfidf(vec.vocabulary_, vec.idf_, (1, 2))
    texts = ["", "   \t\n", "！？", "x", "X", "汽车  零部件\t制造", "汽车 零部件 制造"]
    indptr, columns, weights = tfidf.vectors(texts)
    assert np.diff(indptr).tolist()[:3] == [0, 0, 1]                  # no words; no words; the padding
    assert columns[indptr[2]] == vec.vocabulary_[" "] and weights[indptr[2]] == 1.0
    dense = tfidf.dense(texts)
    np.testing.assert_array_equal(dense[:, 3], dense[:, 4])          # lower-cased
    np.testing.assert_array_equal(dense[:, 5], dense[:, 6])          # any white space splits words
    assert np.sqrt((dense[:, 3] ** 2).sum()) == pytest.approx(1.0)
    cos = tfidf.cosines(texts, tfidf.dense(CORPUS))
    assert cos[:2].tolist() == [[0.0] * len(CORPUS)] * 2


@settings(max_examples=40, deadline=None)
@given(TEXTS, st.lists(TEXTS, max_size=5), st.lists(TEXTS, max_size=5))
def test_tfidf_cosine_does_not_depend_on_the_other_texts(text, before, after) -> None:  # type: ignore[no-untyped-def]
    """Bit for bit: one firm scored alone or inside a bulk chunk gets the same similarity."""
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), dtype=np.float64).fit(CORPUS)
    tfidf = CharTfidf(vec.vocabulary_, vec.idf_, (1, 2))
    dense = tfidf.dense(CORPUS)
    alone = tfidf.cosines([text], dense)[0]
    inside = tfidf.cosines([*before, text, *after], dense)[len(before)]
    assert alone.tobytes() == inside.tobytes()
