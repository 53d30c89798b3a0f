"""The numpy-only encoder reproduces scikit-learn's TF-IDF and the fitted transformer."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from features.encoder import PairEncoder, char_wb_ngrams

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
    enc = PairEncoder([], [], [], ("a", "b"), (1, 2), {}, vec.vocabulary_, vec.idf_)
    want = (vec.transform(texts) @ vec.transform(CORPUS).T).toarray()
    got = enc._cosines(texts, enc._dense(CORPUS, keep=False))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
