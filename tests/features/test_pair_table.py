"""The pair table in levels: expansion, slicing, and the transformer reading it like a flat frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features import columns as C
from features.pair_table import PairTable, _distinct_rows
from features.transformers import PairFeatures

FIRM_NUMERIC = C.FIRM_PROFILE_NUMERIC + C.FIRM_DERIVED_NUMERIC + C.FIRM_SUMMARY_NUMERIC
POLICY_NUMERIC = C.POLICY_NUMERIC + C.HISTORY_NUMERIC
SCOPES = ["软件开发", "汽车零部件制造", None, "软件开发 信息技术咨询"]
TEXTS = ["软件企业研发补助", "制造业技术改造", "餐饮 住宿"]


def _leveled(rows: np.ndarray, cols: np.ndarray, seed: int = 0) -> PairTable:
    rng = np.random.default_rng(seed)
    n_firms, n_pol = int(rows.max(initial=-1)) + 1 or 1, len(TEXTS)
    firms: dict[str, object] = {c: np.where(rng.random(n_firms) < 0.2, np.nan, rng.normal(size=n_firms) * 1e5)
                                for c in FIRM_NUMERIC}
    for c in C.FIRM_CATEGORICAL:
        firms[c] = np.array([["small", "micro", None, "x"][i % 4] for i in range(n_firms)], dtype=object)
    firms[C.BUSINESS_SCOPE] = np.array([SCOPES[i % 4] for i in range(n_firms)], dtype=object)
    policies: dict[str, object] = {c: rng.normal(size=n_pol) for c in POLICY_NUMERIC}
    for c in C.POLICY_CATEGORICAL:
        policies[c] = np.array(["a", "b", None][:n_pol], dtype=object)
    policies[C.POLICY_TEXT] = np.array(TEXTS, dtype=object)
    pairs = {c: rng.normal(size=len(rows)) for c in C.PAIR_NUMERIC}
    return PairTable(firms, policies, pairs, rows, cols)


def _fitted() -> PairFeatures:
    rows, cols = np.repeat(np.arange(8), 3), np.tile(np.arange(3), 8)
    return PairFeatures().fit(_leveled(rows, cols).to_frame())


def test_column_expansion_take_and_frame() -> None:
    t = PairTable(firms={"revenue": np.array([1.0, 2.0, 3.0])},
                  policies={"family": np.array(["a", "b"], dtype=object)},
                  pairs={"verdict": np.array([2.0, 1.0, 2.0, 1.0])},
                  rows=np.array([0, 0, 2, 2]), cols=np.array([0, 1, 0, 1]))
    assert t.column("revenue").tolist() == [1.0, 1.0, 3.0, 3.0]
    assert t.column("family").tolist() == ["a", "b", "a", "b"]
    assert t.column(C.ROW).tolist() == [0, 0, 2, 2]
    part = t.take(np.array([3, 2]))
    assert part.firms["revenue"].tolist() == [3.0]           # only the firms referred to
    assert part.column("revenue").tolist() == [3.0, 3.0]
    assert part.column("family").tolist() == ["b", "a"]
    assert part.column("verdict").tolist() == [1.0, 2.0]
    frame = t.to_frame()
    assert list(frame.columns) == ["revenue", "verdict", "family"] and len(frame) == 4
    assert t.missing(["revenue", "nope"]) == ["nope"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=25), st.booleans())
def test_distinct_rows_equal_numpy_unique(rows, sort) -> None:  # type: ignore[no-untyped-def]
    r = np.array(sorted(rows) if sort else rows, dtype=np.int64)
    used, local = _distinct_rows(r)
    want_used, want_local = np.unique(r, return_inverse=True)
    assert used.tolist() == want_used.tolist() and local.tolist() == want_local.reshape(-1).tolist()


def test_a_name_at_two_levels_is_refused() -> None:
    with pytest.raises(ValueError, match="more than one level"):
        PairTable({"x": np.zeros(1)}, {"x": np.zeros(1)}, {}, np.zeros(0, int), np.zeros(0, int))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 2)), min_size=1, max_size=30, unique=True),
       st.integers(0, 2**16))
def test_leveled_and_flat_tables_give_the_same_features(pairs, seed) -> None:  # type: ignore[no-untyped-def]
    pairs.sort()
    rows, cols = (np.array(v) for v in zip(*pairs, strict=True))
    est = _fitted()
    table = _leveled(rows, cols, seed)
    leveled, flat = est.transform(table), est.transform(table.to_frame())
    # exact, except the text similarity: a sum over n-grams whose rounding may differ in the
    # last bit with the set of policy texts held (numpy picks pairwise or plain summation)
    np.testing.assert_array_equal(leveled[:, :-1], flat[:, :-1])
    np.testing.assert_allclose(leveled[:, -1], flat[:, -1], rtol=0, atol=1e-15)
    half = np.arange(0, len(rows), 2)
    np.testing.assert_array_equal(est.transform(table.take(half))[:, :-1], flat[half, :-1])
    np.testing.assert_allclose(est.transform(table.take(half))[:, -1], flat[half, -1], rtol=0, atol=1e-15)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 2)), min_size=1, max_size=30, unique=True),
       st.integers(1, 7), st.booleans())
def test_features_filled_tile_by_tile_equal_one_pass(pairs, tile, onehot) -> None:  # type: ignore[no-untyped-def]
    import features.encoder as encoder
    pairs.sort()
    rows, cols = (np.array(v) for v in zip(*pairs, strict=True))
    table = _leveled(rows, cols)
    est = PairFeatures(categorical_encoding="onehot" if onehot else "code").fit(
        _leveled(np.repeat(np.arange(8), 3), np.tile(np.arange(3), 8)).to_frame())
    whole = est.transform(table)
    saved = encoder.TILE_ROWS
    try:
        encoder.TILE_ROWS = tile                      # tiles of 1-7 rows: every boundary case
        tiled = est.transform(table)
    finally:
        encoder.TILE_ROWS = saved
    np.testing.assert_array_equal(tiled, whole)


def test_unseen_category_and_missing_text() -> None:
    est = _fitted()
    t = _leveled(np.array([2, 2]), np.array([0, 1]))      # firm 2 has no business scope
    t.firms["size_class"][2] = "giant"                       # type: ignore[index]
    X = est.transform(t)
    names = list(est.get_feature_names_out())
    assert np.isnan(X[:, names.index("scope_policy_similarity")]).all()
    size = [i for i, n in enumerate(names) if n.startswith("size_class=")]
    assert (X[:, size] == 0).all()
    assert isinstance(est.transform(pd.DataFrame(t.to_frame())), np.ndarray)


def test_transform_into_a_reused_buffer() -> None:
    """A caller's buffer receives exactly what a fresh matrix would, whatever it held before;
    a buffer of the wrong shape, type or layout is refused."""
    from features.encoder import PairEncoder
    est = _fitted()
    enc = PairEncoder.from_state(est.get_state())
    table = _leveled(np.array([0, 0, 1, 3, 3, 3]), np.array([0, 2, 1, 0, 1, 2]), 7)
    want = enc.transform(table)
    buffer = np.full((10, len(enc.feature_names)), 123.0)
    got = enc.transform(table, out=buffer[:len(table)])
    assert np.shares_memory(got, buffer)
    np.testing.assert_array_equal(got, want)
    for bad in (np.empty((len(table) + 1, len(enc.feature_names))), np.empty((len(table), len(enc.feature_names)), "f4"),
                np.empty((len(enc.feature_names), len(table))).T):
        with pytest.raises(ValueError, match="C-contiguous float64"):
            enc.transform(table, out=bad)
