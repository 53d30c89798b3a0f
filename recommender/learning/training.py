"""Training and evaluation of the learned ranker from a registry and an application history.

Time is split at ``until``: the training windows are the half-year windows of the
``train_years`` before it (two years, four windows by default), the test window the year after.
Each window's pairs are built from eligibility as of the window's middle, with history
statistics from the year before the window starts (never later), and labelled from the
window's events: **1 approved, 0 otherwise** (SPEC §7: the target is approval; a graded label
— applied 1, approved 2, large award 3 — scored lower on every history tried). Only windows
whose look-back the log covers are used, so a history figure means the same in training as at
serving (:mod:`features.history`).

**Out-of-time gate.** Before the shipped model is fitted, every candidate — the LambdaRank
ranker, the two-stage P(apply) × P(approve | apply), and the baselines (popularity by
approvals, rules, logistic) — is fitted on the windows before the last ``validation_months``
and scored on that last period (one window, built as serving builds it: eligibility at its
middle, history as of its start). A paired bootstrap over firms compares the learned ranker
with the best baseline (:mod:`models.gate`); the learned ranker is shipped only if the lower
end of the interval is above zero, otherwise that baseline is shipped as the model
(``popularity-…``, ``logistic-…`` or ``rules-v1``). The decision and its figures are in the manifest
(``metrics.gate``), ``train``'s printout and ``evaluate``'s report. The shipped model is then
fitted on every training window.

Why half-year windows: with one-year windows the newest training window starts a year before
``until``, so a policy that started in that year has no history in training, while at test
(and serving) time it has a year of it; on the 50k-firm synthetic history 36 of 48 policies
start in 2022 and 86 % of the 2022 training pairs had no policy history. Half-year windows give
the last window (July–December) the first half's history. Held-out 2023 NDCG@10 of LambdaRank
0.6813 → 0.6888 (logistic baseline 0.6580 → 0.6602); quarterly windows 0.6860 (see the data card).
Categoricals are category codes (LightGBM's categorical splits; the logistic baseline one-hot
encodes them): 53 features instead of 109, 2023 NDCG@10 0.6919 (logistic 0.6600).

Time (50k firms × 48 policies, 2 cores): pair building and features ≈ 40 s, LambdaRank ≈ 60–100 s
(query bagging), approval model ≈ 10 s, evaluation of the ranker and the three baselines ≈ 60 s
(metrics vectorised, logistic baseline on a 500k-row query sample).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features import columns as C
from features.history import attach_history, history_stats
from features.transformers import PairFeatures
from models.artifacts import Artifact, BaselineArtifact, save_artifact, save_baseline_artifact
from models.baselines import LogisticBaseline, PopularityBaseline, RuleOrderBaseline
from models.calibration import ApprovalModel
from models.gate import paired_bootstrap
from models.linear import LinearScorer
from models.metrics import expected_calibration_error, ranking_metrics
from models.ranker import LambdaRanker
from models.splits import Window, group_holdout, train_test_windows, training_windows
from recommender.rules import Catalog
from recommender.engine import benefit_matrix, evaluate_catalog
from recommender.errors import InputFileError
from recommender.profile import ReferenceTables
from recommender.ranking import build_pairs, policy_spans

APPROVED = 1
"""The label of an approved pair (every other candidate pair is 0)."""
LEARNED = "lambdarank"
TWO_STAGE = "two_stage"
BASELINES: tuple[str, ...] = ("popularity", "rules", "logistic")
SHIPPABLE: tuple[str, ...] = ("popularity", "rules", "logistic")
"""Baselines with a model format of their own (``models.artifacts.save_baseline_artifact``)."""
RANKER_PARAMS: dict[str, Any] = {"learning_rate": 0.1, "num_leaves": 15, "min_child_samples": 200,
                                 "query_fraction": 0.5, "feature_fraction": 0.7, "max_bin": 63}
"""LambdaRank settings of ``train`` (besides the tree count): each tree sees half the firms and
70 % of the features on 63-bin histograms — a third of the time of the full-data setting at
equal or better test NDCG on the 50k-firm synthetic history (see the commit log)."""
DEFAULT_TREES = 150
APPROVAL_PARAMS: dict[str, Any] = {"n_estimators": 40, "learning_rate": 0.15}
"""Approval classifier settings: on the 50k-firm history (test 2023, decided applications) 40
trees at 0.15 score as 150 at 0.05 — AUC 0.8289, log loss 0.4882, Brier 0.1641, ECE 0.0065 after
isotonic calibration — at a quarter of the prediction cost, which bulk runs pay for every
match written (60 trees at 0.12: AUC 0.8290, ECE 0.0078). Figures on one-hot features; with the
category codes ECE 0.0042."""
MONOTONE: dict[str, int] = {C.VERDICT: 1, C.SHARE_MET: 1, C.MARGIN_MIN: 1, C.MARGIN_MEAN: 1}
"""Features whose direction is known (issue 21 item 4): other things equal, a firm that meets
more of a policy's criteria, or meets them by a wider margin, is no less likely to apply, to be
approved or to be ranked higher. LightGBM keeps every tree monotone in them (``intermediate``
method), so a thin or odd history cannot teach the ranker to prefer the narrower miss."""


def monotone_params(names: Sequence[str]) -> dict[str, Any]:
    """LightGBM parameters constraining :data:`MONOTONE` (0 for every other feature)."""
    return {"monotone_constraints": [MONOTONE.get(n, 0) for n in names],
            "monotone_constraints_method": "intermediate"}


WINDOW_MONTHS = 6
"""Length of a training window (see the module text)."""
VALIDATION_MONTHS = 12
"""The last part of the training years held out for the gate: a year, the horizon a shipped
model serves (see :mod:`recommender.learning.validation`); the last window when the history
leaves no covered window before that year."""
K_VALUES: tuple[int, ...] = (5, 10)


def _read_table(path: Path) -> pd.DataFrame:
    path = Path(path)
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)
    except FileNotFoundError:
        raise InputFileError("file not found", path=str(path)) from None
    except (OSError, ValueError) as err:
        raise InputFileError(f"cannot read the file ({err})", path=str(path)) from None
    raise InputFileError("must be a .parquet or .csv file", path=str(path))


def read_interactions(path: Path) -> pd.DataFrame:
    """An interaction log (SPEC §7) with ``event_date`` as datetime64.

    Raises
    ------
    InputFileError
        Naming the file and the column at fault.
    """
    df = _read_table(path)
    for col in C.INTERACTION_COLUMNS:
        if col not in df.columns:
            raise InputFileError(f"field {col}: required column missing", path=str(path))
        if df[col].isna().any():
            row = int(np.flatnonzero(df[col].isna().to_numpy())[0]) + 1
            raise InputFileError(f"field {col}: required value missing", path=str(path), location=f"row {row}")
    bad = sorted(set(df[C.OUTCOME].astype(str)) - set(C.OUTCOMES))
    if bad:
        raise InputFileError(f"field outcome: {bad[0]!r} is not one of {', '.join(C.OUTCOMES)}", path=str(path))
    try:
        dates = pd.to_datetime(df[C.EVENT_DATE], errors="raise", format="ISO8601")
    except (ValueError, TypeError) as err:
        raise InputFileError(f"field event_date: not an ISO date ({err})", path=str(path)) from None
    return pd.DataFrame({C.FIRM_ID: df[C.FIRM_ID].astype(str), C.POLICY_ID: df[C.POLICY_ID].astype(str),
                         C.EVENT_DATE: dates.astype("datetime64[ns]"), C.OUTCOME: df[C.OUTCOME].astype(str)})


def file_hash(*paths: Path) -> str:
    """SHA-256 (first 16 hex digits) over the bytes of the training files."""
    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()[:16]


def families(catalog: Catalog) -> dict[str, str]:
    return {p.id: p.header.family for p in catalog}


def window_as_of(window: Window) -> dt.date:
    """Eligibility date of a window: its middle (1 July for a calendar year)."""
    return window.start + (window.end - window.start) / 2


def observed_from(events: pd.DataFrame) -> dt.date | None:
    """First day the log covers: the first of the month of its first event (a log starts on a
    period boundary as a rule; a few quiet days at its start do not make a window uncovered)."""
    if events.empty:
        return None
    return pd.Timestamp(events[C.EVENT_DATE].min()).date().replace(day=1)


def labelled_pairs(profiles: pd.DataFrame, catalog: Catalog, ref: ReferenceTables,
                   events: pd.DataFrame, window: Window, seen_from: dt.date | None = None) -> pd.DataFrame:
    """Candidate pairs as of the window's middle, history before its start, labels inside it.

    Adds ``label`` (1 approved, else 0), ``applied`` (1 when any application is recorded),
    ``applied_decided`` (1 when an approved/rejected application exists) and ``approved``.
    ``seen_from`` is the log's first covered day (default: :func:`observed_from`).
    """
    elig = evaluate_catalog(catalog, profiles, window_as_of(window), ref)
    low, high = benefit_matrix(elig)
    stats = history_stats(events, window.start, families(catalog),
                          observed_from=seen_from if seen_from is not None else observed_from(events))
    pairs = attach_history(build_pairs(elig, low, high), stats, policy_spans(tuple(catalog)))
    inside = events.loc[window.contains(events[C.EVENT_DATE])]
    rank = inside[C.OUTCOME].map({"approved": 2, "rejected": 1, "applied": 0}).astype(int)
    best = inside.assign(_r=rank).groupby([C.FIRM_ID, C.POLICY_ID])["_r"].max().rename("_best")
    pairs = pairs.join(best, on=[C.FIRM_ID, C.POLICY_ID])
    approved = (pairs["_best"] == 2).to_numpy()
    pairs[C.LABEL] = approved.astype(int)
    pairs["applied"] = pairs["_best"].notna().astype(int)
    pairs["applied_decided"] = pairs["_best"].isin([1, 2]).astype(int)
    pairs["approved"] = approved.astype(int)
    pairs[C.QUERY] = pairs[C.FIRM_ID].astype(str) + "|" + window.start.isoformat()
    return pairs.drop(columns=["_best"])


POLICY_HISTORY: tuple[str, ...] = (C.POLICY_PRIOR_APPLICATIONS, C.POLICY_PRIOR_APPROVALS,
                                   C.POLICY_PRIOR_APPROVAL_RATE)
HISTORY_DROPOUT = 0.3
"""Share of the policies of each training window whose own history is hidden (NaN, "not
observable") while the learned models are fitted: the trees then also learn to rank a policy
with no record yet (a new policy) by what else they see. The baselines are fitted on the pairs
as they are (the masking is the learned ranker's recipe, not a handicap for what it is compared
with); validation, test and serving pairs are never masked.

Chosen on the gate's validation, not the test year: on the 50,000-firm history split at
2023-01-01 (validation 2022, where most of the catalog's policies were new to candidates fitted
on 2021) LambdaRank's validation NDCG@10 went 0.4725 (no masking) → 0.5234 (0.3) → 0.5179 (0.6)."""


def fitting_pairs(profiles: pd.DataFrame, catalog: Catalog, ref: ReferenceTables, events: pd.DataFrame,
                  windows: Sequence[Window], *, seed: int, dropout: float | None = None
                  ) -> tuple[pd.DataFrame, np.ndarray]:
    """The labelled pairs of ``windows`` to fit on, and which of them have their policy history
    hidden from the learned models (:data:`HISTORY_DROPOUT` of each window's policies, whole)."""
    share = HISTORY_DROPOUT if dropout is None else dropout
    rng = np.random.default_rng(seed)
    parts, hidden = [], []
    for w in windows:
        pairs = labelled_pairs(profiles, catalog, ref, events, w)
        ids = pairs[C.POLICY_ID].unique()
        chosen = ids[rng.random(len(ids)) < share] if share > 0 else ids[:0]
        hidden.append(pairs[C.POLICY_ID].isin(chosen).to_numpy())
        parts.append(pairs)
    return pd.concat(parts, ignore_index=True), np.concatenate(hidden) if hidden else np.zeros(0, dtype=bool)


def hide_history(X: np.ndarray, names: Sequence[str], hidden: np.ndarray) -> np.ndarray:
    """``X`` with the policy-history features of the ``hidden`` rows set to NaN (in place)."""
    columns = [i for i, n in enumerate(names) if any(n in (h, f"log_{h}") for h in POLICY_HISTORY)]
    if hidden.any() and columns:
        X[np.ix_(np.flatnonzero(hidden), np.asarray(columns, dtype=np.intp))] = np.nan
    return X


def covered_windows(events: pd.DataFrame, until: dt.date, years: int, window_months: int,
                    lookback_days: int = 365) -> list[Window]:
    """The training windows whose whole look-back the log covers.

    Raises
    ------
    InputFileError
        None is covered: the history is too short for ``years`` of training before ``until``.
    """
    seen = observed_from(events)
    windows = training_windows(until, years, window_months)
    kept = [w for w in windows if seen is None or w.start - dt.timedelta(days=lookback_days) >= seen]
    if not kept:
        first = "no events" if seen is None else f"events from {seen.isoformat()}"
        raise InputFileError(f"field event_date: the history ({first}) does not cover the {lookback_days}-day "
                             f"look-back of any training window before {until.isoformat()}; give a longer "
                             "history or a later --until", path="interaction log")
    return kept


def training_pairs(profiles: pd.DataFrame, catalog: Catalog, ref: ReferenceTables,
                   events: pd.DataFrame, until: dt.date, years: int,
                   window_months: int = WINDOW_MONTHS) -> pd.DataFrame:
    """Labelled pairs of each covered ``window_months`` window of the ``years`` before ``until``
    (query = firm × window)."""
    return pd.concat([labelled_pairs(profiles, catalog, ref, events, w)
                      for w in covered_windows(events, until, years, window_months)], ignore_index=True)


@dataclass
class TrainResult:
    """Everything ``train`` produced: the saved artifact and its figures."""

    artifact: Artifact | BaselineArtifact
    metrics: dict[str, Any]
    seconds: float


def score_table(models: dict[str, Any], X: np.ndarray, pairs: pd.DataFrame,
                per_firm: dict[str, np.ndarray] | None = None) -> dict[str, dict[str, float]]:
    """NDCG/MAP/recall@k (relevant = approved) of every model on a labelled pair matrix;
    ``per_firm``, when given, receives each model's NDCG@10 per firm (same firms, same order)."""
    y, q = pairs[C.LABEL].to_numpy(), pairs[C.QUERY].to_numpy()
    out: dict[str, dict[str, float]] = {}
    for name, model in models.items():
        m = ranking_metrics(y, model.predict(X), q, K_VALUES, min_relevant=APPROVED)
        row: dict[str, float] = {key: v.mean for key, v in m.items()}
        if per_firm is not None:
            per_firm[name] = m[GATE_METRIC].values
        nd = m[f"ndcg@{K_VALUES[0]}"]
        row["queries"] = float(len(nd.values))
        row["excluded_queries"] = float(nd.n_excluded)
        out[name] = row
    return out


GATE_METRIC = "ndcg@10"


def leads_over_best_baseline(table: dict[str, dict[str, float]], per_firm: dict[str, np.ndarray],
                             names: Sequence[str], *, seed: int) -> dict[str, Any]:
    """Each of ``names`` minus the best baseline of ``table`` (by NDCG@10), with the 95 % paired
    bootstrap interval over firms: the noise a lead on the test year is measured against."""
    best = max(BASELINES, key=lambda b: table[b][GATE_METRIC])
    out: dict[str, Any] = {"best_baseline": best}
    for name in dict.fromkeys(names):
        lo, hi = paired_bootstrap(per_firm[name], per_firm[best], seed=seed)
        out[name] = {"mean": table[name][GATE_METRIC] - table[best][GATE_METRIC], "lower": lo, "upper": hi}
    return out

LOGISTIC_MAX_ROWS = 500_000
"""The logistic baseline is fitted on whole queries drawn at random up to this many rows: about
100 coefficients are estimated as well from 500,000 rows as from 1.5 million, at a third of the
time (50k firms, test 2023: NDCG@10 0.6581 on the sample, 0.6579 on all 1.49M rows; 26 s vs 77 s)."""


def query_sample(query_ids: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    """Boolean mask of whole queries drawn at random until about ``max_rows`` rows (all if fewer)."""
    codes, uniques = pd.factorize(np.asarray(query_ids))
    if len(codes) <= max_rows:
        return np.ones(len(codes), dtype=bool)
    sizes = np.bincount(codes, minlength=len(uniques))
    order = np.random.default_rng(seed).permutation(len(uniques))
    chosen = np.zeros(len(uniques), dtype=bool)
    chosen[order[np.cumsum(sizes[order]) <= max_rows]] = True
    return chosen[codes]


def fit_baselines(X: np.ndarray, pairs: pd.DataFrame, names: list[str], seed: int = 0,
                  logistic_max_rows: int = LOGISTIC_MAX_ROWS, categorical: Sequence[str] = ()) -> dict[str, Any]:
    """The three baselines fitted on training pairs (logistic on a query sample, see above;
    ``categorical`` names the columns of category codes, one-hot encoded for it). Popularity
    is by approvals per year in force before each window (``features.history``)."""
    y, q = pairs[C.LABEL].to_numpy(), pairs[C.QUERY].to_numpy()
    pick = query_sample(q, logistic_max_rows, seed)
    return {"popularity": PopularityBaseline().fit(X, y, q, names),
            "rules": RuleOrderBaseline().fit(X, y, q, names),
            "logistic": LogisticBaseline(positive_label=APPROVED).fit(X[pick], y[pick], q[pick], names, categorical)}


def ranker_params(n_rows: int) -> dict[str, Any]:
    """:data:`RANKER_PARAMS` for ``n_rows`` training rows: the leaf minimum scales with the data
    (one row in 1,000, between 20 and 200). At 200 a history of 1,000–3,000 firms leaves no
    split possible — the ranker learned nothing and lost to every baseline — while at the 50k-firm
    default (1.5M rows) it stays 200."""
    return {**RANKER_PARAMS, "min_child_samples": int(np.clip(n_rows // 1000, 20, RANKER_PARAMS["min_child_samples"]))}


def fit_ranker(X: np.ndarray, pairs: pd.DataFrame, names: list[str], categorical: Sequence[str], *,
               n_estimators: int, seed: int) -> LambdaRanker:
    """LambdaRank on the queries with at least one approval (all-zero queries teach nothing)."""
    useful = pairs.groupby(C.QUERY)[C.LABEL].transform("max").to_numpy() > 0
    return LambdaRanker(n_estimators=n_estimators, random_state=seed, lgb_params=monotone_params(names),
                        **ranker_params(int(useful.sum()))).fit(
        X[useful], pairs[C.LABEL].to_numpy()[useful], pairs[C.QUERY].to_numpy()[useful], names,
        categorical=categorical)


class TwoStage:
    """P(apply) × P(approve | apply) as one scorer (the order ``rank_by="expected_value"``
    gives, before the benefit is multiplied in)."""

    def __init__(self, apply: Any, approve: Any) -> None:
        self.apply, self.approve = apply, approve

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.apply.predict_proba(X)) * np.asarray(self.approve.predict_proba(X))


def fit_approval(X: np.ndarray, pairs: pd.DataFrame, names: list[str], categorical: Sequence[str], *,
                 seed: int, target: str = "approved", rows: str = "applied_decided") -> ApprovalModel:
    """Calibrated P(``target`` | ``rows``): approval given a decided application by default;
    ``target="applied", rows=""`` is P(apply) over every candidate pair."""
    keep = pairs[rows].to_numpy() == 1 if rows else np.ones(len(pairs), dtype=bool)
    holdout = group_holdout(pairs[C.FIRM_ID].to_numpy()[keep], 0.3, seed)
    return ApprovalModel(random_state=seed, lgb_params=monotone_params(names), **APPROVAL_PARAMS).fit(
        X[keep], pairs[target].to_numpy()[keep], holdout, names, categorical)


def train(profiles: pd.DataFrame, events: pd.DataFrame, catalog: Catalog, ref: ReferenceTables,
          until: dt.date, out_dir: Path, *, training_data_hash: str, seed: int = 0,
          n_estimators: int = DEFAULT_TREES, train_years: int = 2, window_months: int = WINDOW_MONTHS,
          validation_months: int = VALIDATION_MONTHS, ship: str | None = None) -> TrainResult:
    """Gate the learned ranker against the baselines out of time, then fit the shipped model
    on every covered window of the ``train_years`` before ``until``; test on the year after.

    The artifact is written to ``out_dir``: the LambdaRank model, or the baseline the gate
    chose (:func:`models.artifacts.save_baseline_artifact`). Its history statistics are
    those at ``until`` (what serving sees). The gate's decision and the test-window metrics
    are stored in the manifest. ``ship`` overrides the decision (``lambdarank`` or one of
    :data:`SHIPPABLE`; recorded as ``overridden_by_caller`` beside what the gate chose).
    """
    if ship is not None and ship not in (LEARNED, *SHIPPABLE):
        raise ValueError(f"ship must be one of {', '.join((LEARNED, *SHIPPABLE))}, got {ship!r}")
    from recommender.learning.validation import validate
    t0 = time.perf_counter()
    windows = covered_windows(events, until, train_years, window_months)
    gate = validate(profiles, events, catalog, ref, windows, until, validation_months,
                    seed=seed, n_estimators=n_estimators, window_months=window_months)
    if ship is not None and ship != gate.shipped:
        gate = dataclasses.replace(gate, shipped=ship, reason=f"{gate.reason}; overridden by the caller: shipping {ship}",
                                   extra={**gate.extra, "overridden_by_caller": True, "gate_chose": gate.shipped})
    tr, hidden = fitting_pairs(profiles, catalog, ref, events, windows, seed=seed)
    featurizer = PairFeatures().fit(tr)
    names = [str(n) for n in featurizer.get_feature_names_out()]
    categorical = featurizer.encoder_.categorical_features
    Xtr = featurizer.transform(tr)
    baselines = fit_baselines(Xtr, tr, names, seed, categorical=categorical)
    hide_history(Xtr, names, hidden)
    ranker = fit_ranker(Xtr, tr, names, categorical, n_estimators=n_estimators, seed=seed)
    approval = fit_approval(Xtr, tr, names, categorical, seed=seed)
    apply = fit_approval(Xtr, tr, names, categorical, seed=seed, target="applied", rows="")
    fit_seconds = time.perf_counter() - t0
    train_w, test_w = train_test_windows(until, train_years)
    te = labelled_pairs(profiles, catalog, ref, events, test_w)
    Xte = featurizer.transform(te)
    test_firms: dict[str, np.ndarray] = {}
    table = score_table({LEARNED: ranker, TWO_STAGE: TwoStage(apply, approval), **baselines}, Xte, te, test_firms)
    dec_te = te["applied_decided"].to_numpy() == 1
    ece = (expected_calibration_error(te["approved"].to_numpy()[dec_te], approval.predict_proba(Xte[dec_te]))
           if dec_te.any() else float("nan"))
    apply_ece = expected_calibration_error(te["applied"].to_numpy(), apply.predict_proba(Xte)) if len(te) else float("nan")
    metrics = {"test_window": [test_w.start.isoformat(), test_w.end.isoformat()],
               "models": table, "approval_ece": ece, "apply_ece": apply_ece, "fit_seconds": round(fit_seconds, 2),
               "train_pairs": int(len(tr)), "test_pairs": int(len(te)), "gate": gate.to_json(),
               "test_leads": (leads_over_best_baseline(table, test_firms, (LEARNED, gate.shipped), seed=seed)
                              if len(next(iter(test_firms.values()), ())) else None)}
    serve_history = history_stats(events, until, families(catalog), observed_from=observed_from(events))
    state = {"transformer": featurizer.get_state(), "history": serve_history.to_json()}
    training = {"until": until.isoformat(), "seed": seed, "train_years": train_years,
                "window_months": window_months, "validation_months": validation_months,
                "train_window": [train_w.start.isoformat(), train_w.end.isoformat()],
                "windows": [w.start.isoformat() for w in windows],
                "n_estimators": n_estimators,
                "ranker_params": {**RANKER_PARAMS, "min_child_samples": ranker.min_child_samples},
                "approval_params": APPROVAL_PARAMS, "firms": int(len(profiles))}
    artifact: Artifact | BaselineArtifact
    if gate.shipped == LEARNED:
        artifact = save_artifact(out_dir, ranker, approval, state, catalog_version=catalog.version,
                                 training_data_hash=training_data_hash, metrics=metrics, training=training,
                                 apply=apply)
    else:
        linear = LinearScorer.from_baseline(baselines["logistic"]).to_json() if gate.shipped == "logistic" else None
        artifact = save_baseline_artifact(out_dir, gate.shipped, state, catalog_version=catalog.version,
                                          training_data_hash=training_data_hash, metrics=metrics,
                                          training=training, linear=linear)
    return TrainResult(artifact, metrics, time.perf_counter() - t0)
