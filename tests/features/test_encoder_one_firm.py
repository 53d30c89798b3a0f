"""PairEncoder.transform_firm (policy blocks prepared once) equals PairEncoder.transform of the same pairs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.encoder import PairEncoder
from features.pair_table import PairTable

POLICIES = {
    "policy_text": np.array(["软件开发 补贴", "汽车零部件制造 奖励", None, "软件开发 补贴"], dtype=object),
    "benefit_years": np.array([1.0, 3.0, 2.0, 1.0]),
    "prior_applications": np.array([0.0, 12.0, np.nan, 3.0]),
    "family": np.array(["relief", "innovation", "relief", None], dtype=object),
}
ENCODERS = {onehot: PairEncoder(
    numeric=["revenue", "employees", "benefit_years", "prior_applications", "verdict", "benefit"],
    log_columns=["revenue", "prior_applications", "benefit"],
    categorical=["size_class", "family", "pair_kind"],
    text=("scope", "policy_text"), ngram_range=(1, 2),
    categories={"size_class": ["small", "micro"], "family": ["relief", "innovation"], "pair_kind": ["a", "b"]},
    vocabulary={"软": 0, "件": 1, "汽": 2, "车": 3, " 软": 4, "补": 5, "贴": 6, "奖": 7},
    idf=[1.0, 1.2, 1.5, 1.1, 2.0, 1.3, 1.4, 1.6], onehot=onehot) for onehot in (False, True)}
ENCODER = ENCODERS[False]

firms = st.fixed_dictionaries({
    "revenue": st.one_of(st.just(np.nan), st.floats(-1e9, 1e9)),
    "employees": st.one_of(st.just(np.nan), st.floats(0, 5000)),
    "size_class": st.sampled_from([None, "small", "micro", "large"]),
    "scope": st.sampled_from([None, "", "软件开发", "汽车 零部件", "other words"]),
})


@settings(max_examples=100, deadline=None)
@given(firm=firms, cols=st.lists(st.integers(0, 3), min_size=1, max_size=6).map(sorted),
       onehot=st.booleans(), data=st.data())
def test_one_firm_transform_equals_the_pair_table_transform(firm, cols, onehot, data) -> None:  # type: ignore[no-untyped-def]
    k = len(cols)
    pairs = {"verdict": np.array(data.draw(st.lists(st.sampled_from([1.0, 2.0]), min_size=k, max_size=k))),
             "benefit": np.array(data.draw(st.lists(st.one_of(st.just(np.nan), st.floats(0, 1e8)),
                                                    min_size=k, max_size=k))),
             "pair_kind": np.array(data.draw(st.lists(st.sampled_from(["a", "b", None]), min_size=k, max_size=k)),
                                   dtype=object)}
    table = PairTable(firms={c: np.array([v], dtype=object if isinstance(v, str) or v is None else "float64")
                             for c, v in firm.items()},
                      policies=POLICIES, pairs=pairs, rows=np.zeros(k, dtype=np.int64), cols=np.array(cols))
    want = ENCODERS[onehot].transform(table)
    enc = ENCODERS[onehot]
    got = enc.transform_firm(enc.prepare_policies(POLICIES, firm.keys()), firm, pairs, np.array(cols))
    np.testing.assert_array_equal(got, want)


def test_the_text_pair_must_be_firm_then_policy() -> None:
    with pytest.raises(ValueError, match=r"text columns \('scope', 'policy_text'\) are not \(firm, policy\) columns"):
        ENCODER.prepare_policies({k: v for k, v in POLICIES.items() if k != "policy_text"}, ["scope"])


def test_pair_columns_are_the_rest() -> None:
    prepared = ENCODER.prepare_policies(POLICIES, ["revenue", "employees", "size_class", "scope"])
    assert prepared.pair_columns == ["verdict", "benefit", "pair_kind"]


def test_category_codes_of_firm_policy_and_pair_columns() -> None:
    firm = {"revenue": 1.0, "employees": 2.0, "size_class": "micro", "scope": "软件开发"}
    pairs = {"verdict": np.array([2.0, 1.0, 2.0]), "benefit": np.array([1.0, 2.0, 3.0]),
             "pair_kind": np.array(["b", None, "zzz"], dtype=object)}
    X = ENCODER.transform_firm(ENCODER.prepare_policies(POLICIES, firm.keys()), firm, pairs, np.array([0, 2, 3]))
    names = ENCODER.feature_names
    assert names[6:9] == ["size_class", "family", "pair_kind"] and len(names) == 10
    np.testing.assert_array_equal(X[:, 6], [1.0, 1.0, 1.0])             # micro is the second category
    np.testing.assert_array_equal(X[:, 7], [0.0, 0.0, np.nan])          # relief, relief, unknown
    np.testing.assert_array_equal(X[:, 8], [1.0, np.nan, np.nan])       # b; unknown; unseen


def test_the_policy_block_is_shared_and_read_only() -> None:
    prepared = ENCODER.prepare_policies(POLICIES, ["revenue", "employees", "size_class", "scope"])
    firm = {"revenue": 1.0, "employees": 2.0, "size_class": "micro", "scope": "软件开发"}
    pairs = {"verdict": np.array([2.0]), "benefit": np.array([1.0]), "pair_kind": np.array(["a"], dtype=object)}
    before = prepared.block.copy()
    ENCODER.transform_firm(prepared, firm, pairs, np.array([1]))
    np.testing.assert_array_equal(prepared.block, before)       # a request writes into its own copy
    with pytest.raises(ValueError):
        prepared.block[0, 0] = 1.0
