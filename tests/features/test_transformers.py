"""Transformers honour the sklearn contract; the column contract matches FirmProfile."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from features import columns as C
from features.transformers import PairFeatures, SignedLog
from recommender.facts.fields import DERIVED_KINDS
from recommender.profile.model import FirmProfile


@parametrize_with_checks([SignedLog()])
def test_sklearn_contract(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)


def test_firm_columns_are_profile_fields_or_derived_facts() -> None:
    assert set(C.FIRM_PROFILE_NUMERIC) <= set(FirmProfile.model_fields)
    assert set(C.FIRM_DERIVED_NUMERIC) <= set(DERIVED_KINDS)
    assert C.BUSINESS_SCOPE in FirmProfile.model_fields
    assert C.POLICY_ID not in C.NUMERIC_COLUMNS + C.CATEGORICAL_COLUMNS


def _table(n: int = 4) -> pd.DataFrame:
    d: dict[str, object] = {c: np.arange(n, dtype=float) for c in C.NUMERIC_COLUMNS}
    for c in C.CATEGORICAL_COLUMNS:
        d[c] = ["x", "y", None, "x"][:n]
    d[C.BUSINESS_SCOPE] = ["软件开发", "汽车零部件制造", None, "软件开发"][:n]
    d[C.POLICY_TEXT] = ["软件企业研发补助", "制造业改造", "制造业改造", "餐饮"][:n]
    return pd.DataFrame(d)


def test_pair_features_contract_and_state_round_trip() -> None:
    est = PairFeatures()
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(NotFittedError):
        est.transform(_table())
    X = _table()
    assert est.fit(X) is est
    Z = est.transform(X)
    names = est.get_feature_names_out()
    assert Z.shape == (4, len(names))
    assert names[-1] == "scope_policy_similarity"
    assert "log_revenue" in names and "policy_family" in names and "policy_family=x" not in names
    sim = Z[:, -1]
    assert np.isnan(sim[2]) and sim[0] > sim[3]          # shared characters score higher
    # one column of codes among the sorted categories; unknown is NaN
    np.testing.assert_array_equal(Z[:, list(names).index("policy_family")], [0.0, 1.0, np.nan, 0.0])
    assert est.encoder_.categorical_features == list(C.CATEGORICAL_COLUMNS)
    again = PairFeatures.from_state(est.get_state())
    np.testing.assert_array_equal(again.transform(X), Z)


def test_unseen_category_is_nan_in_codes_and_all_zero_in_onehot() -> None:
    fitted = _table()
    later = _table().assign(policy_family=["z", "x", "y", None])
    code = PairFeatures().fit(fitted)
    onehot = PairFeatures(categorical_encoding="onehot").fit(fitted)
    codes = code.transform(later)[:, list(code.get_feature_names_out()).index("policy_family")]
    np.testing.assert_array_equal(codes, [np.nan, 0.0, 1.0, np.nan])
    names = list(onehot.get_feature_names_out())
    block = onehot.transform(later)[:, [names.index("policy_family=x"), names.index("policy_family=y")]]
    np.testing.assert_array_equal(block, [[0, 0], [1, 0], [0, 1], [0, 0]])
    assert onehot.encoder_.categorical_features == []
    assert len(names) == len(code.get_feature_names_out()) + len(C.CATEGORICAL_COLUMNS)  # two categories each


def test_state_without_encoding_is_onehot_as_older_models() -> None:
    state = PairFeatures(categorical_encoding="onehot").fit(_table()).get_state()
    del state["params"]["categorical_encoding"]
    again = PairFeatures.from_state(state)
    assert again.categorical_encoding == "onehot" and "policy_family=x" in again.get_feature_names_out()


def test_unknown_encoding_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^categorical_encoding must be 'code' or 'onehot', got 'ordinal'$"):
        PairFeatures(categorical_encoding="ordinal").fit(_table())


def test_missing_column_is_named() -> None:
    with pytest.raises(ValueError, match=r"^pair table is missing column\(s\) \['verdict'\]$"):
        PairFeatures().fit(_table().drop(columns=["verdict"]))
