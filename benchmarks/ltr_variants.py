"""Validation of ranker variants inside the training period (never reads the test year).

Usage::

    .venv/bin/python benchmarks/ltr_variants.py --data var/synth50k [--variant base]
        [--params '{"num_leaves": 31}'] [--grid '[{"lgb_params": {"path_smooth": 50}}]']
        [--onehot] [--no-baseline]

``--grid`` fits more LambdaRank settings on the same pairs (one feature build); ``--onehot``
encodes the categoricals one-hot, as models before the category codes did.

Split: the labelled pairs of the training windows (the half-years of 2021 and 2022, split date
2023-01-01, as ``recommender train``; ``--window-months 12`` for the yearly windows of earlier
models) are divided by firm; 80 % of firms (all windows) fit the features, the ranker and the
logistic baseline, and the other 20 % are scored on the last window. Prints NDCG@5/@10 of
LambdaRank (and the logistic baseline) on that validation set.

Variants (experimental features computed here with pandas, not in the product):

* ``base`` — the product's features.
* ``context`` — plus within-firm context of each candidate among the firm's candidates:
  count of candidates and of eligible ones, log-benefit gap to the firm's best, benefit rank
  and share, candidates of the same family, margin and share-met gaps to the firm's best,
  margin rank, candidates cleared by at least 20 %.
* ``own`` — plus the firm's own applications and approvals in the year before the window,
  for the policy, its family and overall.
* ``uptake`` — plus the policy's applications in the year before the window per candidate
  firm of the window (its appeal with the size of its eligible pool divided out).

Figures with half-year windows (validation window July–December 2022, LambdaRank NDCG@10;
logistic 0.5653): one-hot categoricals 0.5916 (seeds 1 and 2: 0.5917, 0.5926); category codes
with LightGBM's categorical splits 0.5928 with 53 features instead of 109 (logistic, which
one-hot encodes the codes itself, 0.5653; kept: same NDCG, half the matrix to build); uptake 0.5925 (logistic 0.5652); objective ``rank_xendcg`` 0.5913;
``path_smooth`` 20 / 50 / 100 / 200: 0.5918 / 0.5933 / 0.5921 / 0.5924 (50 with seeds 1 and 2:
0.5914, 0.5920); ``reg_lambda`` 10 0.5921; ``extra_trees`` 0.5897; dart 0.5874;
``lambdarank_norm`` off 0.5923; sigmoid 0.5 / 2 0.5921 / 0.5919. Nothing but the codes kept.

Earlier figures with yearly windows (50k firms, seed 0; LambdaRank / logistic NDCG@10 on validation):
base 0.6633 / 0.6300; context 0.6626 / 0.6358; own 0.6631 / 0.6345. LambdaRank settings
(base features): learning rate 0.05 → 0.6608, 0.15 → 0.6627; 31 leaves 0.6636; 63 leaves
with 100 rows per leaf 0.6619; 50 or 1,000 rows per leaf 0.6633 / 0.6635; truncation 30
0.6638; label gain (0, 0, 3, 7) 0.6605, (0, 1, 3, 15) 0.6625; queries with an approval only
0.6632; the 2022 window only 0.6635. None is kept: see ``data/synthetic_data_card.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features import columns as C
from features.transformers import PairFeatures
from models.metrics import ranking_metrics
from models.ranker import LambdaRanker
from recommender.rules.catalog import load_catalog
from recommender.profile.reference import load_reference
from models.splits import training_windows
from recommender.learning.training import (APPROVED, RANKER_PARAMS, WINDOW_MONTHS, fit_baselines, read_interactions,
                                  training_pairs)
from recommender.profile import read_registry

UNTIL = dt.date(2023, 1, 1)


def context_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Within-firm context of each candidate (vectorised group transforms over the query)."""
    q = df[C.QUERY]
    ben = df[C.BENEFIT]
    log_ben = np.sign(ben) * np.log1p(ben.abs())
    total = ben.fillna(0).groupby(q).transform("sum")
    return pd.DataFrame({
        "q_n_candidates": q.groupby(q).transform("size").astype(float),
        "q_n_eligible": (df[C.VERDICT] == 2).groupby(q).transform("sum").astype(float),
        "q_benefit_gap": log_ben - log_ben.groupby(q).transform("max"),
        "q_benefit_rank": ben.groupby(q).rank(ascending=False, method="min"),
        "q_benefit_share": ben / total.where(total > 0),
        "q_family_candidates": df.groupby([C.QUERY, C.POLICY_FAMILY])[C.VERDICT].transform("size").astype(float),
        "q_margin_gap": df["margin_min"] - df["margin_min"].groupby(q).transform("max"),
        "q_margin_rank": df["margin_min"].groupby(q).rank(ascending=False, method="min"),
        "q_share_gap": df[C.SHARE_MET] - df[C.SHARE_MET].groupby(q).transform("max"),
        "q_n_comfortable": (df["margin_min"] >= 0.2).groupby(q).transform("sum").astype(float),
    }, index=df.index)


def own_history_columns(df: pd.DataFrame, events: pd.DataFrame, lookback_days: int = 365) -> pd.DataFrame:
    """The firm's own applications and approvals in the year before each query's window."""
    start = df[C.QUERY].str.split("|").str[1]
    family = dict(zip(df[C.POLICY_ID].astype(str), df[C.POLICY_FAMILY].astype(str), strict=False))
    out: dict[str, np.ndarray] = {}
    for s in start.unique():
        end = pd.Timestamp(s)
        rows = (start == s).to_numpy()
        dates = events[C.EVENT_DATE]
        past = events.loc[(dates < end) & (dates >= end - pd.Timedelta(days=lookback_days))].assign(
            policy_family=lambda e: e[C.POLICY_ID].map(family),
            approvals=lambda e: (e[C.OUTCOME] == "approved").astype(float), applications=1.0)
        sub = df.loc[rows, [C.FIRM_ID, C.POLICY_ID, C.POLICY_FAMILY]].astype(str)
        for keys, name in (([C.FIRM_ID, C.POLICY_ID], "own_policy"), ([C.FIRM_ID, C.POLICY_FAMILY], "own_family"),
                           ([C.FIRM_ID], "own_all")):
            sums = past.groupby(keys)[["applications", "approvals"]].sum()
            joined = sub[keys].join(sums, on=keys)
            for col in ("applications", "approvals"):
                out.setdefault(f"{name}_{col}", np.zeros(len(df)))[rows] = joined[col].fillna(0).to_numpy()
    return pd.DataFrame(out, index=df.index)


def uptake_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Applications to the policy in the year before the window per candidate firm of the window
    (the policy's appeal with the size of its eligible pool divided out)."""
    pool = df.groupby(["_window", C.POLICY_ID])[C.VERDICT].transform("size").astype(float)
    return pd.DataFrame({"policy_prior_uptake": df["policy_prior_applications"] / pool}, index=df.index)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("var/synth50k"))
    ap.add_argument("--variant", choices=("base", "context", "own", "uptake"), default="base")
    ap.add_argument("--params", default="{}", help="LambdaRank settings over RANKER_PARAMS (JSON).")
    ap.add_argument("--grid", default="[]", help="More LambdaRank settings to fit on the same pairs (JSON list).")
    ap.add_argument("--trees", type=int, default=150)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--onehot", action="store_true", help="One-hot categoricals (models before the codes).")
    ap.add_argument("--window-months", type=int, default=WINDOW_MONTHS)
    args = ap.parse_args()
    t0 = time.perf_counter()
    catalog, ref = load_catalog(), load_reference()
    profiles = read_registry(args.data / "registry.parquet", ref, strict=True)[0].drop(columns="_row")
    events = read_interactions(args.data / "interactions.parquet")
    pairs = training_pairs(profiles, catalog, ref, events, UNTIL, 2, args.window_months)
    valid_window = training_windows(UNTIL, 2, args.window_months)[-1].start.isoformat()
    firms = pairs[C.FIRM_ID].astype(str).unique()
    held = pairs[C.FIRM_ID].astype(str).isin(set(firms[np.random.default_rng(123).random(len(firms)) < 0.2]))
    fit_df = pairs.loc[~held].reset_index(drop=True)
    val_df = pairs.loc[held & pairs[C.QUERY].str.endswith(valid_window)].reset_index(drop=True)
    extra: list[str] = []
    if args.variant != "base":
        if args.variant == "uptake":              # pool over every firm of the window
            pairs["_window"] = pairs[C.QUERY].str.split("|").str[1]
            up = uptake_columns(pairs)
            a = up.loc[~held].reset_index(drop=True)
            b = up.loc[held & pairs[C.QUERY].str.endswith(valid_window)].reset_index(drop=True)
        else:
            add = context_columns if args.variant == "context" else (lambda d: own_history_columns(d, events))
            a, b = add(fit_df), add(val_df)
        extra = [str(c) for c in a.columns]
        fit_df, val_df = pd.concat([fit_df, a], axis=1), pd.concat([val_df, b], axis=1)
    featurizer = PairFeatures(numeric=C.NUMERIC_COLUMNS + tuple(extra),
                              categorical_encoding="onehot" if args.onehot else "code").fit(fit_df)
    names = [str(n) for n in featurizer.get_feature_names_out()]
    categorical = featurizer.encoder_.categorical_features
    Xf, Xv = featurizer.transform(fit_df), featurizer.transform(val_df)
    y, q = fit_df[C.LABEL].to_numpy(), fit_df[C.QUERY].to_numpy()
    useful = fit_df.groupby(C.QUERY)[C.LABEL].transform("max").to_numpy() > 0
    params: dict[str, Any] = {**RANKER_PARAMS, **json.loads(args.params)}
    models: dict[str, Any] = {}
    for i, more in enumerate([{}, *json.loads(args.grid)]):
        t1 = time.perf_counter()
        models[f"lambdarank{i or ''}"] = LambdaRanker(**{
            "n_estimators": args.trees, "random_state": 0, **params, **more,
            "lgb_params": {**params.get("lgb_params", {}), **more.get("lgb_params", {})}}).fit(
            Xf[useful], y[useful], q[useful], names, categorical=categorical)
        print(f"lambdarank{i or ''}: {more} ({time.perf_counter() - t1:.0f} s)", flush=True)
    if not args.no_baseline:
        models["logistic"] = fit_baselines(Xf, fit_df, names, categorical=categorical)["logistic"]
    yv, qv = val_df[C.LABEL].to_numpy(), val_df[C.QUERY].to_numpy()
    print(f"variant {args.variant}, {len(names)} features, params {params}, validation queries {len(np.unique(qv))}")
    for name, model in models.items():
        m = ranking_metrics(yv, model.predict(Xv), qv, (5, 10), min_relevant=APPROVED)
        print(f"{name:<12} ndcg@5 {m['ndcg@5'].mean:.4f}  ndcg@10 {m['ndcg@10'].mean:.4f}")
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
