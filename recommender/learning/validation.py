"""Out-of-time validation inside ``train``: every candidate fitted before a validation period
and compared on it, and the gate's decision (:mod:`models.gate`).

The validation period is the last ``validation_months`` before ``until`` (one window). Its
pairs are built as serving builds them: eligibility as of the period's middle, history as of
its start, the log's coverage as it is. The candidates are fitted on the covered training
windows that end by the period's start and never read an event dated inside it (their
features read history before each window's start; their labels come from their own windows).

Candidates: ``lambdarank`` (the learned ranker, as shipped), ``two_stage`` (P(apply) ×
P(approve | apply), two calibrated LightGBM classifiers: reported, and a reminder of what
ranking by approval alone misses), and the baselines ``popularity`` (approvals per year in
force before the period), ``rules`` (rules-v1) and ``logistic``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from features import columns as C
from features.transformers import PairFeatures
from models.gate import GateDecision, decide
from models.metrics import ranking_metrics
from models.splits import Window
from recommender.learning.training import (APPROVED, BASELINES, LEARNED, SHIPPABLE, TWO_STAGE, TwoStage,
                                           fit_approval, fit_baselines, fit_ranker, labelled_pairs)
from recommender.profile import ReferenceTables
from recommender.rules import Catalog

METRIC = "ndcg@10"


def _months_before(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, day.day)


def per_firm(models: dict[str, Any], X: np.ndarray, pairs: pd.DataFrame) -> dict[str, np.ndarray]:
    """NDCG@10 of each model per validation firm that had an approval (same firms, same order)."""
    y, q = pairs[C.LABEL].to_numpy(), pairs[C.QUERY].to_numpy()
    return {name: ranking_metrics(y, m.predict(X), q, (10,), min_relevant=APPROVED)[METRIC].values
            for name, m in models.items()}


def validation_period(until: dt.date, validation_months: int) -> Window:
    """The last ``validation_months`` before ``until``."""
    return Window(_months_before(until, validation_months), until)


def fit_candidates(profiles: pd.DataFrame, events: pd.DataFrame, catalog: Catalog, ref: ReferenceTables,
                   fit_windows: list[Window], *, seed: int, n_estimators: int) -> tuple[PairFeatures, dict[str, Any]]:
    """The feature transformer and every candidate, fitted on ``fit_windows`` only."""
    tr = pd.concat([labelled_pairs(profiles, catalog, ref, events, w) for w in fit_windows], ignore_index=True)
    featurizer = PairFeatures().fit(tr)
    names = [str(n) for n in featurizer.get_feature_names_out()]
    categorical = featurizer.encoder_.categorical_features
    Xtr = featurizer.transform(tr)
    models: dict[str, Any] = {
        LEARNED: fit_ranker(Xtr, tr, names, categorical, n_estimators=n_estimators, seed=seed),
        TWO_STAGE: TwoStage(fit_approval(Xtr, tr, names, categorical, seed=seed, target="applied", rows=""),
                             fit_approval(Xtr, tr, names, categorical, seed=seed)),
        **fit_baselines(Xtr, tr, names, seed, categorical=categorical)}
    return featurizer, models


def validate(profiles: pd.DataFrame, events: pd.DataFrame, catalog: Catalog, ref: ReferenceTables,
             windows: list[Window], until: dt.date, validation_months: int, *, seed: int,
             n_estimators: int) -> GateDecision:
    """Fit every candidate on the windows before the validation period, score them on it, and
    decide. Without enough history for both (no covered window before the period, or no
    approval in it) the learned ranker is shipped unvalidated and the decision says so."""
    period = validation_period(until, validation_months)
    fit_windows = [w for w in windows if w.end <= period.start]
    span = (period.start.isoformat(), period.end.isoformat())
    if not fit_windows:
        return _unvalidated(f"no covered training window ends before the validation period {span[0]}", span)
    va = labelled_pairs(profiles, catalog, ref, events, period)
    if not va[C.LABEL].any():
        return _unvalidated(f"no approval in the validation period {span[0]}–{span[1]}", span)
    featurizer, models = fit_candidates(profiles, events, catalog, ref, fit_windows, seed=seed,
                                        n_estimators=n_estimators)
    decision = decide(per_firm(models, featurizer.transform(va), va), learned=LEARNED, baselines=BASELINES,
                      shippable=SHIPPABLE, metric=METRIC, seed=seed, validation_window=span)
    fitted = [w.start.isoformat() for w in fit_windows]
    return GateDecision(decision.shipped, decision.learned, decision.best_baseline, decision.candidates,
                        decision.difference, decision.reason, span, decision.firms,
                        {"fit_windows": fitted, "validation_pairs": int(len(va))})


def _unvalidated(why: str, span: tuple[str, str]) -> GateDecision:
    nan = float("nan")
    return GateDecision(LEARNED, LEARNED, "", {}, (nan, nan, nan),
                        f"not validated out of time ({why}): shipping {LEARNED}", span, 0)
