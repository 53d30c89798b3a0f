"""``recommender evaluate``: a saved model and freshly fitted baselines on the year after its
split date, with the out-of-time gate's decision the model was shipped by."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features import columns as C
from features.transformers import PairFeatures
from models.artifacts import load_baseline_artifact, model_kind
from models.metrics import expected_calibration_error, ranking_metrics
from models.splits import train_test_windows
from recommender.learning.training import (APPROVED, LEARNED, TWO_STAGE, TwoStage, fit_baselines, labelled_pairs,
                                           score_table, training_pairs)
from recommender.profile import ReferenceTables
from recommender.rules import Catalog


def evaluate_model(model_dir: Path, profiles: pd.DataFrame, events: pd.DataFrame, catalog: Catalog,
                   ref: ReferenceTables, until: dt.date | None = None,
                   check_catalog: bool = True) -> dict[str, Any]:
    """Score a saved model and freshly fitted baselines on the year after ``until``.

    ``until`` defaults to the model's own split date. Returns the metric table, the ECE, the
    NDCG@k curve (k = 1..10) per model, the reliability table, the feature importance and the
    gate's decision stored in the model (``gate``; ``None`` for a model trained without it).
    A model the gate shipped as a baseline (popularity, rules) is scored as that baseline.
    """
    kind = model_kind(Path(model_dir))
    if kind != "ltr":
        return _evaluate_baseline(Path(model_dir), kind, profiles, events, catalog, ref, until)
    from recommender.ranking import LearnedRanker
    lr = LearnedRanker(Path(model_dir), catalog, check_catalog=check_catalog)
    art = lr.artifact()
    until = until or dt.date.fromisoformat(art.manifest["training"]["until"])
    years = int(art.manifest["training"].get("train_years", 2))
    months = int(art.manifest["training"].get("window_months", 12))    # older models: yearly windows
    tr = training_pairs(profiles, catalog, ref, events, until, years, months)
    te = labelled_pairs(profiles, catalog, ref, events, train_test_windows(until)[1])
    Xtr, Xte = lr.encoder.transform(tr), lr.encoder.transform(te)
    models = {LEARNED: art.ranker,
              **({TWO_STAGE: TwoStage(art.apply, art.approval)} if art.apply is not None else {}),
              **fit_baselines(Xtr, tr, art.feature_names, categorical=lr.encoder.categorical_features)}
    dec = te["applied_decided"].to_numpy() == 1
    p, t = art.approval.predict_proba(Xte[dec]), te["approved"].to_numpy()[dec]
    bins = np.minimum((p * 10).astype(int), 9)
    reliability = [(float(p[bins == b].mean()), float(t[bins == b].mean()), int((bins == b).sum()))
                   for b in range(10) if (bins == b).any()]
    return {**_table(models, Xte, te), "approval_ece": expected_calibration_error(t, p) if dec.any() else None,
            "reliability": reliability, "until": until.isoformat(),
            "importance": dict(zip(art.feature_names, art.ranker.importance().tolist(), strict=True)),
            "model_version": art.version, "model_kind": kind, "gate": art.manifest["metrics"].get("gate")}


def _table(models: dict[str, Any], X: np.ndarray, te: pd.DataFrame) -> dict[str, Any]:
    y, q = te[C.LABEL].to_numpy(), te[C.QUERY].to_numpy()
    curves = {}
    for name, m in models.items():
        per_k = ranking_metrics(y, m.predict(X), q, tuple(range(1, 11)), min_relevant=APPROVED)
        curves[name] = [per_k[f"ndcg@{k}"].mean for k in range(1, 11)]
    return {"models": score_table(models, X, te), "ndcg_curves": curves}


def _evaluate_baseline(model_dir: Path, kind: str, profiles: pd.DataFrame, events: pd.DataFrame,
                       catalog: Catalog, ref: ReferenceTables, until: dt.date | None) -> dict[str, Any]:
    art = load_baseline_artifact(model_dir)
    until = until or dt.date.fromisoformat(art.manifest["training"]["until"])
    years = int(art.manifest["training"].get("train_years", 2))
    months = int(art.manifest["training"].get("window_months", 6))
    tr = training_pairs(profiles, catalog, ref, events, until, years, months)
    te = labelled_pairs(profiles, catalog, ref, events, train_test_windows(until)[1])
    featurizer = PairFeatures().fit(tr)
    names = [str(n) for n in featurizer.get_feature_names_out()]
    Xtr, Xte = featurizer.transform(tr), featurizer.transform(te)
    models = fit_baselines(Xtr, tr, names, categorical=featurizer.encoder_.categorical_features)
    return {**_table(models, Xte, te), "approval_ece": None, "reliability": [], "until": until.isoformat(),
            "importance": {}, "model_version": art.version, "model_kind": kind,
            "shipped_as": kind, "gate": art.manifest["metrics"].get("gate")}
