"""Out-of-time validation inside ``train``: every candidate fitted before a validation period
and compared on it, and the gate's decision (:mod:`models.gate`).

The validation period mirrors serving. A shipped model serves the year after ``until`` with its
history statistics frozen at ``until``; so the period is the last ``validation_months`` (12)
before ``until``, its pairs built as serving builds them (eligibility as of its middle, history
as of its start, the log's coverage as it is), and the candidates are fitted on the covered
training windows that end by its start, never reading an event dated inside it. When no covered
window ends before a 12-month period (a history of two years: the first year is the look-back
of the second) the period is the last training window instead, and the decision says so.

Why a year and not the last half-year window: with the half-year window the validation's
history (the 12 months before July) shares half a year with the period itself, while serving's
history ends where its year begins. Where activity moves by the year (budgets, campaigns: the
generator zoo's ``trend`` history, 3,000 firms), popularity looked best on 2022H2 (NDCG@10 0.443
vs rules 0.229) and was shipped, and scored 0.196 on 2023 against rules' 0.392; validated on the
whole of 2022 the order is rules 0.253, logistic 0.232, popularity 0.185, as on 2023.

What a year of validation cannot do is judge policies the candidates never met. The bundled
catalog has 10 policies in force in 2021 and 41–47 from 2022: split at 2023-01-01, the
candidates are fitted on 2021 alone and validated on a 2022 of mostly new policies, where
LambdaRank (0.523) trails logistic (0.539) although, refitted through 2022, it leads on 2023
(0.706 vs 0.690). The default model is therefore split at 2024-01-01 (validation 2023, fitted on
2021–2022, the catalog the same on both sides): the gate ships LambdaRank there (0.731 vs
logistic 0.704), and it leads on 2024 (0.667 vs 0.648). ``benchmarks/ltr_validation.py`` uses
the same split for the generator zoo.

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
from recommender.learning.training import (APPROVED, BASELINES, GATE_METRIC, LEARNED, SHIPPABLE, TWO_STAGE, TwoStage,
                                           fit_approval, fit_baselines, fit_ranker, fitting_pairs,
                                           hide_history, labelled_pairs)
from recommender.profile import ReferenceTables
from recommender.rules import Catalog

METRIC = GATE_METRIC


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


def validation_plan(windows: list[Window], until: dt.date, validation_months: int,
                    window_months: int) -> tuple[Window, list[Window]]:
    """The validation period and the covered windows fitted before it: the last
    ``validation_months`` when a covered window ends by its start, else the last
    ``window_months`` (no fit window at all: an empty list)."""
    for months in dict.fromkeys((validation_months, window_months)):
        period = validation_period(until, months)
        fit = [w for w in windows if w.end <= period.start]
        if fit:
            return period, fit
    return validation_period(until, window_months), []


def fit_candidates(profiles: pd.DataFrame, events: pd.DataFrame, catalog: Catalog, ref: ReferenceTables,
                   fit_windows: list[Window], *, seed: int, n_estimators: int) -> tuple[PairFeatures, dict[str, Any]]:
    """The feature transformer and every candidate, fitted on ``fit_windows`` only."""
    tr, hidden = fitting_pairs(profiles, catalog, ref, events, fit_windows, seed=seed)
    featurizer = PairFeatures().fit(tr)
    names = [str(n) for n in featurizer.get_feature_names_out()]
    categorical = featurizer.encoder_.categorical_features
    Xtr = featurizer.transform(tr)
    baselines = fit_baselines(Xtr, tr, names, seed, categorical=categorical)      # on the pairs as they are
    hide_history(Xtr, names, hidden)
    models: dict[str, Any] = {
        LEARNED: fit_ranker(Xtr, tr, names, categorical, n_estimators=n_estimators, seed=seed),
        TWO_STAGE: TwoStage(fit_approval(Xtr, tr, names, categorical, seed=seed, target="applied", rows=""),
                             fit_approval(Xtr, tr, names, categorical, seed=seed)),
        **baselines}
    return featurizer, models


def validate(profiles: pd.DataFrame, events: pd.DataFrame, catalog: Catalog, ref: ReferenceTables,
             windows: list[Window], until: dt.date, validation_months: int, *, seed: int,
             n_estimators: int, window_months: int | None = None) -> GateDecision:
    """Fit every candidate on the windows before the validation period
    (:func:`validation_plan`), score them on it, and decide. Without enough history for both
    (no covered window before the period, or no approval in it) the learned ranker is shipped
    unvalidated and the decision says so."""
    period, fit_windows = validation_plan(windows, until, validation_months, window_months or validation_months)
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
                        {"fit_windows": fitted, "validation_pairs": int(len(va)),
                         "validation_months": _months_between(period.start, period.end)})


def _months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def _unvalidated(why: str, span: tuple[str, str]) -> GateDecision:
    nan = float("nan")
    return GateDecision(LEARNED, LEARNED, "", {}, (nan, nan, nan),
                        f"not validated out of time ({why}): shipping {LEARNED}", span, 0)
