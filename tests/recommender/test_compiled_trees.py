"""Compiled trees (lleaves) score exactly like LightGBM's own predict."""

from __future__ import annotations

import numpy as np
import pytest

lgb = pytest.importorskip("lightgbm")
pytest.importorskip("lleaves")

from recommender.ranking.compiled_trees import compile_booster  # noqa: E402


@pytest.mark.parametrize("objective", ["lambdarank", "binary"])
def test_compiled_scores_equal_lightgbm(objective, tmp_path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 6))
    X[rng.random(X.shape) < 0.2] = np.nan            # missing values take the default route
    y = (np.nan_to_num(X[:, 0]) + rng.normal(0, 0.5, 2000) > 0).astype(int)
    params = {"objective": objective, "num_leaves": 15, "verbose": -1, "seed": 0}
    data = lgb.Dataset(X, y, feature_name=["a=1", "b", "c", "d=x", "e", "f"])
    if objective == "lambdarank":
        data.set_group([20] * 100)
    booster = lgb.train(params, data, num_boost_round=20)
    compiled = compile_booster(booster.model_to_string(), tmp_path / "trees.so")
    test = rng.normal(size=(500, 6))
    test[rng.random(test.shape) < 0.2] = np.nan
    np.testing.assert_allclose(compiled.predict(test, n_jobs=1), booster.predict(test), rtol=0, atol=1e-6)
    again = compile_booster(booster.model_to_string(), tmp_path / "trees.so")   # from the cache
    np.testing.assert_allclose(again.predict(test, n_jobs=1), booster.predict(test), rtol=0, atol=1e-6)
