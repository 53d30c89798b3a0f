"""Model artifacts: native LightGBM text boosters plus JSON, checked on load. Never pickle.

A learned model directory (``kind: ltr``) holds::

    manifest.json              feature names in order, catalog hash, training-data hash,
                               library versions, metrics, created_at, file digests
    ranker.txt                 LambdaRank booster (Booster.save_model, text)
    approval_classifier.txt    approval classifier booster (text)
    calibrator.json            isotonic thresholds of the approval probability
    features.json              state of the feature transformer (JSON; opaque here)
    apply_classifier.txt       P(apply) classifier booster (optional: models trained since
    apply_calibrator.json      issue 21 have it; ``rank_by="expected_value"`` multiplies it in)

:func:`load_artifact` refuses a missing or altered file, feature names that differ from the
running code's, and (unless told otherwise) a model built for another catalog.

When the out-of-time gate ships a baseline instead (issue 21), the directory holds only
``manifest.json`` (``kind`` ``popularity``, ``logistic`` or ``rules``), ``features.json``
(popularity: the history statistics at the training cut-off; logistic: also the feature
transformer's state) and, for logistic, ``linear.json`` (:class:`models.linear.LinearScorer`)
— see :func:`save_baseline_artifact`. Its ``model_version`` is ``popularity-<hash>``,
``logistic-<hash>`` or ``rules-v1``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typing import TYPE_CHECKING

from models.errors import ModelArtifactError
from models.isotonic import IsotonicMap

if TYPE_CHECKING:                  # LightGBM and scikit-learn load only when a booster is read
    import lightgbm as lgb

    from models.calibration import ApprovalModel
    from models.ranker import LambdaRanker

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
RANKER = "ranker.txt"
CLASSIFIER = "approval_classifier.txt"
CALIBRATOR = "calibrator.json"
FEATURES = "features.json"
APPLY_CLASSIFIER = "apply_classifier.txt"
APPLY_CALIBRATOR = "apply_calibrator.json"
REQUIRED = (RANKER, CLASSIFIER, CALIBRATOR, FEATURES)
OPTIONAL = (APPLY_CLASSIFIER, APPLY_CALIBRATOR)
"""Files of a learned model directory: always, and when its manifest lists them."""
LINEAR = "linear.json"
KINDS = ("ltr", "popularity", "rules", "logistic")
"""What a model directory holds: the learned ranker, or a baseline the gate shipped."""


@dataclass
class Artifact:
    """A loaded (or about to be saved) model."""

    ranker: LambdaRanker
    approval: ApprovalModel
    feature_state: dict[str, Any]
    manifest: dict[str, Any]
    apply: ApprovalModel | None = None
    """Calibrated P(apply) over every candidate pair (None in a model saved without it)."""

    @property
    def version(self) -> str:
        return str(self.manifest["model_version"])

    @property
    def feature_names(self) -> list[str]:
        return list(self.manifest["feature_names"])


@dataclass
class BaselineArtifact:
    """A baseline shipped as the model (no boosters): its manifest and state."""

    kind: str
    feature_state: dict[str, Any]
    manifest: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.manifest["model_version"])


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def library_versions() -> dict[str, str]:
    """Versions recorded in every manifest."""
    import lightgbm as lgb
    import numpy as np
    import pandas as pd
    import sklearn
    return {"python": platform.python_version(), "lightgbm": lgb.__version__,
            "scikit-learn": sklearn.__version__, "pandas": pd.__version__, "numpy": np.__version__}


def save_artifact(directory: Path, ranker: LambdaRanker, approval: ApprovalModel,
                  feature_state: dict[str, Any], *, catalog_version: str, training_data_hash: str,
                  metrics: dict[str, Any], training: dict[str, Any] | None = None,
                  apply: ApprovalModel | None = None) -> Artifact:
    """Write a model directory; returns the artifact with its manifest. ``apply`` is the
    calibrated P(apply) classifier (optional; written as :data:`OPTIONAL`).

    Raises
    ------
    ModelArtifactError
        When the ranker and the classifiers were fitted on different feature names.
    """
    names = [str(n) for n in ranker.feature_names_in_]
    for model in (approval, apply):
        if model is not None and list(model.feature_names_in_) != names:
            raise ModelArtifactError("ranker and classifiers use different feature names")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    blobs = {
        RANKER: ranker.booster_.model_to_string().encode(),
        CLASSIFIER: approval.booster_.model_to_string().encode(),
        CALIBRATOR: json.dumps(approval.calibrator_.to_json()).encode(),
        FEATURES: json.dumps(feature_state, ensure_ascii=False, sort_keys=True).encode(),
    }
    if apply is not None:
        blobs[APPLY_CLASSIFIER] = apply.booster_.model_to_string().encode()
        blobs[APPLY_CALIBRATOR] = json.dumps(apply.calibrator_.to_json()).encode()
    for name in OPTIONAL:
        (directory / name).unlink(missing_ok=True)           # a directory reused for a model without it
    for name, data in blobs.items():
        (directory / name).write_bytes(data)
    model_hash = _sha(b"".join(blobs.values()))[:12]
    manifest = {
        "format_version": FORMAT_VERSION,
        "model_version": f"ltr-{model_hash}",
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "feature_names": names,
        "catalog_version": catalog_version,
        "training_data_hash": training_data_hash,
        "libraries": library_versions(),
        "metrics": metrics,
        "training": training or {},
        "files": {name: _sha(data) for name, data in blobs.items()},
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    return Artifact(ranker, approval, feature_state, manifest, apply)


def save_baseline_artifact(directory: Path, kind: str, state: dict[str, Any], *, catalog_version: str,
                           training_data_hash: str, metrics: dict[str, Any],
                           training: dict[str, Any] | None = None,
                           linear: dict[str, Any] | None = None) -> BaselineArtifact:
    """Write a baseline model directory (``kind`` ``popularity``, ``logistic`` or ``rules``);
    ``linear`` is the logistic model's :meth:`~models.linear.LinearScorer.to_json`."""
    if kind not in KINDS[1:]:
        raise ModelArtifactError(f"kind must be one of {', '.join(KINDS[1:])}, got {kind!r}")
    if (kind == "logistic") != (linear is not None):
        raise ModelArtifactError("a logistic model needs its linear scorer (and only it does)")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in (*REQUIRED, *OPTIONAL, LINEAR):
        (directory / stale).unlink(missing_ok=True)          # a directory reused for another kind
    blobs = {} if kind == "rules" else {FEATURES: json.dumps(state, ensure_ascii=False, sort_keys=True).encode()}
    if linear is not None:
        blobs[LINEAR] = json.dumps(linear, sort_keys=True).encode()
    for name, data in blobs.items():
        (directory / name).write_bytes(data)
    version = "rules-v1" if kind == "rules" else f"{kind}-{_sha(b''.join(blobs.values()))[:12]}"
    manifest = {"format_version": FORMAT_VERSION, "kind": kind, "model_version": version,
                "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "feature_names": [], "catalog_version": catalog_version,
                "training_data_hash": training_data_hash, "libraries": library_versions(),
                "metrics": metrics, "training": training or {},
                "files": {name: _sha(data) for name, data in blobs.items()}}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return BaselineArtifact(kind, state, manifest)


def model_kind(directory: Path) -> str:
    """``ltr``, ``popularity`` or ``rules``: what a model directory holds (manifest read,
    nothing else; a manifest without ``kind`` is a learned model)."""
    directory = Path(directory)
    manifest = _json(directory, MANIFEST, _read(directory, MANIFEST))
    kind = manifest.get("kind", "ltr") if isinstance(manifest, dict) else None
    if kind not in KINDS:
        raise ModelArtifactError(f"model {directory}: {MANIFEST} has an unknown kind {kind!r}")
    return str(kind)


def load_baseline_artifact(directory: Path, kind: str | None = None) -> BaselineArtifact:
    """Load and verify a baseline model directory (file digests as in its manifest); ``kind``,
    when given, is the kind it must be."""
    directory = Path(directory)
    manifest = _json(directory, MANIFEST, _read(directory, MANIFEST))
    found = model_kind(directory)
    if found == "ltr" or (kind is not None and found != kind):
        raise ModelArtifactError(f"model {directory}: kind {found!r} is not {kind or 'a baseline'!r}")
    kind = found
    state: dict[str, Any] = {}
    for name, digest in manifest.get("files", {}).items():
        data = _read(directory, name)
        if _sha(data) != digest:
            raise ModelArtifactError(f"model {directory}: {name} does not match the digest in {MANIFEST}")
        if name in (FEATURES, LINEAR):
            state[name] = _json(directory, name, data)
    state = {**state.pop(FEATURES, {}), **({"linear": state[LINEAR]} if LINEAR in state else {})}
    needs = {"popularity": ("history",), "logistic": ("history", "transformer", "linear")}.get(kind, ())
    missing = [k for k in needs if k not in state]
    if missing:
        raise ModelArtifactError(f"model {directory}: a {kind} model lacks {', '.join(missing)} "
                                 f"({FEATURES}, {LINEAR})")
    return BaselineArtifact(kind, state, manifest)


def _read(directory: Path, name: str) -> bytes:
    path = directory / name
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ModelArtifactError(f"model {directory}: missing file {name}") from None


def _json(directory: Path, name: str, data: bytes) -> Any:
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelArtifactError(f"model {directory}: {name} is not valid JSON ({err})") from None


def _first_difference(expected: Sequence[str], found: Sequence[str]) -> str:
    for i, (a, b) in enumerate(zip(expected, found, strict=False)):
        if a != b:
            return f"first difference at position {i}: expected {a!r}, found {b!r}"
    return f"expected {len(expected)} features, found {len(found)}"


def read_verified(directory: Path, *, expected_features: Sequence[str] | None = None,
                  catalog_version: str | None = None) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and file contents of a model directory, checked: every file present and
    matching its digest, feature names as expected, the catalog as expected. No LightGBM.

    Raises
    ------
    ModelArtifactError
        Naming the directory and the file or check that failed.
    """
    directory = Path(directory)
    manifest = _json(directory, MANIFEST, _read(directory, MANIFEST))
    for key in ("format_version", "model_version", "feature_names", "catalog_version", "files"):
        if key not in manifest:
            raise ModelArtifactError(f"model {directory}: {MANIFEST} lacks {key!r}")
    if manifest["format_version"] != FORMAT_VERSION:
        raise ModelArtifactError(f"model {directory}: format_version {manifest['format_version']} "
                                 f"is not supported (expected {FORMAT_VERSION})")
    listed = [name for name in OPTIONAL if name in manifest["files"]]
    if len(listed) not in (0, len(OPTIONAL)):
        raise ModelArtifactError(f"model {directory}: {MANIFEST} lists {listed[0]} without the rest of {OPTIONAL}")
    blobs = {name: _read(directory, name) for name in (*REQUIRED, *listed)}
    for name, data in blobs.items():
        if manifest["files"].get(name) != _sha(data):
            raise ModelArtifactError(f"model {directory}: {name} does not match the digest in {MANIFEST}")
    names = [str(n) for n in manifest["feature_names"]]
    if expected_features is not None and list(expected_features) != names:
        raise ModelArtifactError(
            f"model {directory}: feature names differ from the running code's "
            f"({_first_difference(list(expected_features), names)}); retrain the model")
    if catalog_version is not None and catalog_version != manifest["catalog_version"]:
        raise ModelArtifactError(
            f"model {directory}: built for catalog {manifest['catalog_version']}, "
            f"the loaded catalog is {catalog_version}; retrain the model")
    return manifest, blobs


def read_calibrator(directory: Path, blobs: dict[str, bytes], name: str = CALIBRATOR) -> IsotonicMap:
    """A calibrator of a verified model directory (the approval one by default)."""
    try:
        return IsotonicMap.from_json(_json(directory, name, blobs[name]))
    except (KeyError, ValueError) as err:
        raise ModelArtifactError(f"model {directory}: {name} is invalid ({err})") from None


def read_booster(directory: Path, name: str, text: bytes, feature_names: Sequence[str]) -> lgb.Booster:
    """A LightGBM booster from a verified model file, its feature names checked."""
    import lightgbm as lgb
    try:
        booster = lgb.Booster(model_str=text.decode())
    except (lgb.basic.LightGBMError, UnicodeDecodeError) as err:
        raise ModelArtifactError(f"model {directory}: cannot read a booster ({err})") from None
    if booster.feature_name() != list(feature_names):
        raise ModelArtifactError(f"model {directory}: {name} features differ from {MANIFEST} "
                                 f"({_first_difference(list(feature_names), booster.feature_name())})")
    return booster


def load_artifact(directory: Path, *, expected_features: Sequence[str] | None = None,
                  catalog_version: str | None = None) -> Artifact:
    """Load and verify a model directory.

    Parameters
    ----------
    directory : Path
    expected_features : sequence of str, optional
        The feature names the running code produces, in order; refused if they differ.
    catalog_version : str, optional
        The loaded catalog's content hash; refused if it differs from the manifest's.
        ``None`` skips the check (e.g. to rank a newer catalog on purpose).

    Raises
    ------
    ModelArtifactError
        Naming the directory and the file or check that failed.
    """
    from models.calibration import ApprovalModel
    from models.ranker import LambdaRanker

    directory = Path(directory)
    manifest, blobs = read_verified(directory, expected_features=expected_features,
                                    catalog_version=catalog_version)
    names = [str(n) for n in manifest["feature_names"]]
    ranker_booster = read_booster(directory, RANKER, blobs[RANKER], names)
    clf_booster = read_booster(directory, CLASSIFIER, blobs[CLASSIFIER], names)
    calibrator = read_calibrator(directory, blobs)
    apply = None
    if APPLY_CLASSIFIER in blobs:
        apply = ApprovalModel.from_parts(read_booster(directory, APPLY_CLASSIFIER, blobs[APPLY_CLASSIFIER], names),
                                         read_calibrator(directory, blobs, APPLY_CALIBRATOR))
    return Artifact(LambdaRanker.from_booster(ranker_booster),
                    ApprovalModel.from_parts(clf_booster, calibrator),
                    _json(directory, FEATURES, blobs[FEATURES]), manifest, apply)
