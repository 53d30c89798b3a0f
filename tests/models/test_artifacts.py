"""Artifacts: booster text + JSON round-trip, and refusal of altered or mismatched models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.artifacts import load_artifact, save_artifact
from models.calibration import ApprovalModel
from models.errors import ModelArtifactError
from models.ranker import LambdaRanker

NAMES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] + rng.normal(0, 0.5, 400) > 0).astype(int)
    q = np.repeat(np.arange(80), 5)
    ranker = LambdaRanker(n_estimators=10, min_child_samples=5).fit(X, y, q, NAMES)
    approval = ApprovalModel(n_estimators=10, min_child_samples=5).fit(X, y, q % 4 == 0, NAMES)
    d = tmp_path_factory.mktemp("model")
    save_artifact(d, ranker, approval, {"transformer": {}}, catalog_version="cat1",
                  training_data_hash="h", metrics={"ndcg@10": 0.5})
    return d, X, ranker.predict(X), approval.predict_proba(X)


def test_apply_classifier_round_trip_and_partial_listing(saved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The optional P(apply) classifier is saved, verified and loaded beside the approval one;
    a manifest listing one of its two files and not the other is refused."""
    d0, X, _, _ = saved
    rng = np.random.default_rng(2)
    y = (X[:, 1] + rng.normal(0, 0.5, len(X)) > 0).astype(int)
    q = np.repeat(np.arange(80), 5)
    ranker = LambdaRanker(n_estimators=10, min_child_samples=5).fit(X, y, q, NAMES)
    approval = ApprovalModel(n_estimators=10, min_child_samples=5).fit(X, y, q % 4 == 0, NAMES)
    apply = ApprovalModel(n_estimators=10, min_child_samples=5).fit(X, 1 - y, q % 4 == 1, NAMES)
    d = tmp_path / "with-apply"
    save_artifact(d, ranker, approval, {"transformer": {}}, catalog_version="cat1", training_data_hash="h",
                  metrics={}, apply=apply)
    art = load_artifact(d, expected_features=NAMES)
    assert art.apply is not None
    np.testing.assert_array_equal(art.apply.predict_proba(X), apply.predict_proba(X))
    assert load_artifact(d0).apply is None
    manifest = json.loads((d / "manifest.json").read_text())
    del manifest["files"]["apply_calibrator.json"]
    (d / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelArtifactError, match=r"lists apply_classifier.txt without the rest"):
        load_artifact(d)


def test_round_trip_gives_identical_predictions(saved) -> None:  # type: ignore[no-untyped-def]
    d, X, scores, probs = saved
    art = load_artifact(d, expected_features=NAMES, catalog_version="cat1")
    np.testing.assert_array_equal(art.ranker.predict(X), scores)
    np.testing.assert_array_equal(art.approval.predict_proba(X), probs)
    assert art.version.startswith("ltr-")
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["feature_names"] == NAMES
    assert set(manifest["libraries"]) == {"python", "lightgbm", "scikit-learn", "pandas", "numpy"}
    assert not list(d.glob("*.pkl")) and not list(d.glob("*.joblib"))


def test_feature_mismatch_is_refused(saved) -> None:  # type: ignore[no-untyped-def]
    d = saved[0]
    with pytest.raises(ModelArtifactError, match=(
            rf"^model {d}: feature names differ from the running code's \(first difference at "
            r"position 1: expected 'x', found 'b'\); retrain the model$")):
        load_artifact(d, expected_features=["a", "x", "c"])


def test_catalog_mismatch_is_refused(saved) -> None:  # type: ignore[no-untyped-def]
    d = saved[0]
    with pytest.raises(ModelArtifactError, match=(
            rf"^model {d}: built for catalog cat1, the loaded catalog is cat2; retrain the model$")):
        load_artifact(d, catalog_version="cat2")


def test_altered_file_is_refused(saved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    d = saved[0]
    for f in d.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "calibrator.json").write_text('{"method": "isotonic", "x_thresholds": [0], "y_thresholds": [1]}')
    with pytest.raises(ModelArtifactError, match=r"calibrator.json does not match the digest in manifest.json$"):
        load_artifact(tmp_path)
