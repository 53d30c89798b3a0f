"""``train``'s out-of-time gate on constructed histories: it ships a baseline where the
learned ranker cannot win, the learned ranker where approval depends on what it sees; the
candidates never read the validation period's labels; every shipped kind serves a match
with nothing ineligible above a candidate."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from features import columns as C
from recommender.engine.eligibility import benefit_matrix, evaluate_catalog
from recommender.learning.synth import generate_registry
from recommender.learning.training import (covered_windows, fitting_pairs, hide_history, labelled_pairs,
                                           leads_over_best_baseline, train)
from recommender.learning.validation import fit_candidates, validation_plan
from models.splits import Window
from recommender.matching.results import MatchOptions, match_frame
from recommender.matching.runtime import load_ranker
from recommender.profile.frame import coerce_frame
from recommender.profile.reference import load_reference
from recommender.ranking.pairs import build_pairs
from recommender.rules.catalog import load_catalog
from recommender.settings import DEFAULT_DATA_DIR

LTR_CATALOG = Path(__file__).resolve().parent / "ltr_catalog"
UNTIL = dt.date(2023, 1, 1)
YEARS = range(2019, 2023)


@pytest.fixture(scope="module")
def world() -> tuple[Any, Any, pd.DataFrame, dict[int, pd.DataFrame]]:
    """A registry and, per year, its candidate pairs with their visible features."""
    ref, catalog = load_reference(DEFAULT_DATA_DIR), load_catalog(LTR_CATALOG)
    profiles = coerce_frame(generate_registry(1500, 5, dt.date(2022, 12, 31)))
    pairs = {}
    for year in YEARS:
        elig = evaluate_catalog(catalog, profiles, dt.date(year, 7, 1), ref)
        low, high = benefit_matrix(elig)
        pairs[year] = build_pairs(elig, low, high)
    return catalog, ref, profiles, pairs


def _events(pairs: dict[int, pd.DataFrame], approve: Any, seed: int) -> pd.DataFrame:
    """Applications (60 % of candidate pairs each year) dated in their year; ``approve(year,
    pairs, rng)`` says which are approved; the rest are rejected."""
    rng = np.random.default_rng(seed)
    out = []
    for year, p in pairs.items():
        applied = p.loc[rng.random(len(p)) < 0.6]
        ok = approve(year, applied, rng)
        days = rng.integers(0, 365, len(applied))
        out.append(pd.DataFrame({C.FIRM_ID: applied[C.FIRM_ID].to_numpy(), C.POLICY_ID: applied[C.POLICY_ID].to_numpy(),
                                 C.EVENT_DATE: pd.Timestamp(dt.date(year, 1, 1)) + pd.to_timedelta(days, unit="D"),
                                 C.OUTCOME: np.where(ok, "approved", "rejected")}))
    events = pd.concat(out, ignore_index=True)
    return events.assign(event_date=events[C.EVENT_DATE].astype("datetime64[ns]"))


def _hidden_trend(year: int, p: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Each year every policy gets a fresh approval rate: nothing before the year predicts it."""
    ids = sorted(p[C.POLICY_ID].unique())
    rate = dict(zip(ids, np.random.default_rng(year).permutation(np.linspace(0.05, 0.95, len(ids))), strict=True))
    return rng.random(len(p)) < p[C.POLICY_ID].map(rate).to_numpy()


def _visible(year: int, p: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Approval decided by what the model sees: every other policy (by id) approves large
    firms, the rest small ones — an interaction of a firm figure with a policy's attributes
    that popularity, the rules and a linear model cannot express; 3 % noise."""
    ids = sorted(p[C.POLICY_ID].unique())
    wants_large = p[C.POLICY_ID].map({pid: k % 2 == 0 for k, pid in enumerate(ids)}).to_numpy(dtype=bool)
    large = p["revenue"].fillna(0.0).to_numpy() > 5_000_000.0           # about half the firms
    hit = large == wants_large
    return np.where(rng.random(len(p)) < 0.03, ~hit, hit)


def _train(world: Any, approve: Any, tmp: Path, seed: int = 0) -> dict[str, Any]:
    catalog, ref, profiles, pairs = world
    events = _events(pairs, approve, seed)
    train(profiles, events, catalog, ref, UNTIL, tmp, training_data_hash="t", n_estimators=40, seed=seed)
    return json.loads((tmp / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def trained(world: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, Any]]]:
    """One model per history (trained once for the module)."""
    out = {}
    for name, approve in (("hidden", _hidden_trend), ("visible", _visible)):
        d = tmp_path_factory.mktemp(name)
        out[name] = (d, _train(world, approve, d))
    return out


def test_a_trend_the_features_cannot_see_ships_a_baseline(trained: Any) -> None:
    manifest = trained["hidden"][1]
    gate = manifest["metrics"]["gate"]
    assert gate["validation_window"] == ["2022-01-01", "2023-01-01"]      # the serving horizon: a year
    assert gate["validation_months"] == 12
    assert gate["fit_windows"] == ["2021-01-01", "2021-07-01"]      # 2020's: look-back not covered
    assert gate["difference"]["lower"] <= 0
    assert gate["shipped"] != "lambdarank" and manifest["kind"] == gate["shipped"]
    assert manifest["model_version"].startswith(("popularity-", "logistic-", "rules-v1"))
    assert set(gate["candidates"]) == {"lambdarank", "two_stage", "popularity", "rules", "logistic"}


def test_approval_the_model_can_see_ships_the_learned_ranker(trained: Any) -> None:
    manifest = trained["visible"][1]
    gate = manifest["metrics"]["gate"]
    assert gate["shipped"] == "lambdarank" and gate["difference"]["lower"] > 0, gate["reason"]
    assert manifest["model_version"].startswith("ltr-") and "kind" not in manifest
    lam = gate["candidates"]["lambdarank"]["ndcg@10"]
    assert all(lam > gate["candidates"][b]["ndcg@10"] for b in ("popularity", "rules", "logistic"))
    assert manifest["metrics"]["test_leads"] is None            # no event after UNTIL: no test year to lead on


def test_leads_over_the_best_baseline_with_their_interval() -> None:
    rng = np.random.default_rng(0)
    rules = rng.random(400)
    per_firm = {"lambdarank": rules + 0.1, "popularity": rules - 0.2, "rules": rules, "logistic": rules.copy()}
    table = {name: {"ndcg@10": float(v.mean())} for name, v in per_firm.items()}
    table["logistic"]["ndcg@10"] -= 1e-9                        # a tie broken by the table's figure
    leads = leads_over_best_baseline(table, per_firm, ("lambdarank", "rules", "lambdarank"), seed=0)
    assert set(leads) == {"best_baseline", "lambdarank", "rules"} and leads["best_baseline"] == "rules"
    assert leads["lambdarank"] == pytest.approx({"mean": 0.1, "lower": 0.1, "upper": 0.1})   # a constant lead
    assert leads["rules"] == {"mean": 0.0, "lower": 0.0, "upper": 0.0}
    noisy = {**per_firm, "lambdarank": rules + rng.normal(0.05, 0.3, 400)}
    table["lambdarank"]["ndcg@10"] = float(noisy["lambdarank"].mean())
    lead = leads_over_best_baseline(table, noisy, ("lambdarank",), seed=0)["lambdarank"]
    assert lead["lower"] < lead["mean"] < lead["upper"] and 0.04 < lead["upper"] - lead["lower"] < 0.08


def test_the_candidates_never_read_the_validation_labels(world: Any) -> None:
    catalog, ref, profiles, pairs = world
    events = _events(pairs, _visible, 0)
    period, windows = validation_plan(covered_windows(events, UNTIL, 2, 6), UNTIL, 12, 6)
    assert period == Window(dt.date(2022, 1, 1), UNTIL) and len(windows) == 2
    inside = period.contains(events[C.EVENT_DATE])
    flipped = events.copy()
    flipped.loc[inside, C.OUTCOME] = np.where(events.loc[inside, C.OUTCOME] == "approved", "rejected", "approved")
    X = None
    predictions = []
    for ev in (events, flipped):
        featurizer, models = fit_candidates(profiles, ev, catalog, ref, windows, seed=0, n_estimators=20)
        if X is None:
            X = featurizer.transform(pairs[2022].assign(**{c: 0.0 for c in C.HISTORY_NUMERIC}))
        predictions.append({name: m.predict(X) for name, m in models.items()})
    for name in predictions[0]:
        np.testing.assert_array_equal(predictions[0][name], predictions[1][name], err_msg=name)



def test_history_dropout_hides_whole_policies_of_a_window_while_fitting(world: Any) -> None:
    catalog, ref, profiles, pairs = world
    events = _events(pairs, _visible, 0)
    windows = covered_windows(events, UNTIL, 2, 6)
    plain = pd.concat([labelled_pairs(profiles, catalog, ref, events, w) for w in windows], ignore_index=True)
    none, hidden_none = fitting_pairs(profiles, catalog, ref, events, windows, seed=0, dropout=0.0)
    pd.testing.assert_frame_equal(none, plain)                 # the pairs themselves are never changed
    assert not hidden_none.any()
    assert fitting_pairs(profiles, catalog, ref, events, windows, seed=0, dropout=1.0)[1].all()
    half, hidden = fitting_pairs(profiles, catalog, ref, events, windows, seed=3, dropout=0.5)
    pd.testing.assert_frame_equal(half, plain)
    np.testing.assert_array_equal(hidden, fitting_pairs(profiles, catalog, ref, events, windows, seed=3, dropout=0.5)[1])
    window = half[C.QUERY].str.split("|").str[1]
    groups = pd.Series(hidden).groupby([window, half[C.POLICY_ID]]).agg(["min", "max"])
    assert (groups["min"] == groups["max"]).all()               # a policy's pairs of one window: all or none
    assert 0 < groups["min"].sum() < len(groups)                # some (policy, window) hidden, not all


def test_hide_history_blanks_the_policys_own_history_of_hidden_rows_only() -> None:
    names = ["verdict", "log_policy_prior_applications", "log_policy_prior_approvals", "policy_prior_approval_rate",
             "log_family_prior_applications", "family_prior_approval_rate"]
    X = np.arange(18, dtype="float64").reshape(3, 6)
    before = X.copy()
    hide_history(X, names, np.array([False, True, False]))
    np.testing.assert_array_equal(X[[0, 2]], before[[0, 2]])
    np.testing.assert_array_equal(X[1], [6.0, np.nan, np.nan, np.nan, 10.0, 11.0])   # the family's stays
    unchanged = before.copy()
    hide_history(unchanged, names, np.zeros(3, dtype=bool))
    np.testing.assert_array_equal(unchanged, before)

def _halves(*starts: str) -> list[Window]:
    out = []
    for s in starts:
        start = dt.date.fromisoformat(s)
        out.append(Window(start, dt.date(start.year + (start.month == 7), 1 if start.month == 7 else 7, 1)))
    return out


@pytest.mark.parametrize(("covered", "period", "fitted"), [
    # four covered half-years: the last year validates, the two before it are fitted
    (("2021-01-01", "2021-07-01", "2022-01-01", "2022-07-01"), ("2022-01-01", "2023-01-01"),
     ["2021-01-01", "2021-07-01"]),
    # three: the last year still has one window before it
    (("2021-07-01", "2022-01-01", "2022-07-01"), ("2022-01-01", "2023-01-01"), ["2021-07-01"]),
    # two (a two-year history: its first year is the second's look-back): the last half-year
    (("2022-01-01", "2022-07-01"), ("2022-07-01", "2023-01-01"), ["2022-01-01"]),
    # one: nothing to fit before any period
    (("2022-07-01",), ("2022-07-01", "2023-01-01"), []),
])
def test_validation_plan_prefers_the_serving_year(covered: tuple[str, ...], period: tuple[str, str],
                                                  fitted: list[str]) -> None:
    got, fit = validation_plan(_halves(*covered), UNTIL, 12, 6)
    assert (got.start.isoformat(), got.end.isoformat()) == period
    assert [w.start.isoformat() for w in fit] == fitted


@pytest.mark.parametrize("history", ["hidden", "visible"])
def test_every_shipped_kind_serves_candidates_first(world: Any, trained: Any, history: str) -> None:
    catalog, ref, profiles, _ = world
    model_dir, manifest = trained[history]
    ranker = load_ranker(model_dir, catalog)
    version = "rules-v1" if ranker is None else ranker.version
    assert version == manifest["model_version"]
    from recommender.ranking import RuleRanker
    results = match_frame(profiles.head(80), catalog, dt.date(2023, 3, 1), ref,
                          MatchOptions(top_k=None, include_all=True, detail=False), ranker or RuleRanker())
    for r in results:
        verdicts = [m["verdict"] for m in r["matches"]]
        first_ineligible = next((i for i, v in enumerate(verdicts) if v == "ineligible"), len(verdicts))
        assert all(v == "ineligible" for v in verdicts[first_ineligible:]), verdicts
        assert r["model_version"] == version
