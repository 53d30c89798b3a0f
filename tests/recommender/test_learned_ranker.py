"""The learned ranker behind the Ranker protocol: order invariant, cold start, explanations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from models.errors import ModelArtifactError
from recommender.rules.catalog import Catalog, load_catalog
from recommender.engine.eligibility import evaluate_catalog
from recommender.profile.frame import coerce_frame
from recommender.ranking.learned import INELIGIBLE_SCORE, LearnedRanker
from recommender.engine.eligibility import benefit_matrix
from recommender.ranking.rules import order
from recommender.profile.reference import ReferenceTables, load_reference
from recommender.settings import DEFAULT_DATA_DIR
from recommender.learning.synth import generate_interactions, generate_registry
from recommender.learning.training import train

LTR_CATALOG = Path(__file__).resolve().parent / "ltr_catalog"
END = dt.date(2022, 12, 31)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    ref = load_reference(DEFAULT_DATA_DIR)
    full = load_catalog(LTR_CATALOG)
    # train without the 2022 policy so that scoring it is a genuine cold start
    catalog = Catalog(tuple(p for p in full if p.id != "xx-smart-upgrade"), "without-smart")
    reg = generate_registry(1500, 3, END)
    events = generate_interactions(reg, catalog, ref, 3, 3, END)
    d = tmp_path_factory.mktemp("model")
    result = train(coerce_frame(reg), events.assign(event_date=events["event_date"].astype("datetime64[ns]")),
                   catalog, ref, dt.date(2022, 1, 1), d, training_data_hash="t", n_estimators=20,
                   ship="lambdarank")         # these tests are about the learned ranker, whatever the gate says
    profiles = coerce_frame(reg.head(60))
    return d, full, catalog, ref, profiles, result


def test_version_and_refusal_of_another_catalog(setup) -> None:  # type: ignore[no-untyped-def]
    d, full, catalog, *_ = setup
    assert LearnedRanker(d, catalog).version.startswith("ltr-")
    with pytest.raises(ModelArtifactError, match=rf"^model {d}: built for catalog without-smart, "
                                                 rf"the loaded catalog is {full.version}; retrain the model$"):
        LearnedRanker(d, full)


def test_cold_start_and_ineligible_pairs(setup) -> None:  # type: ignore[no-untyped-def]
    d, full, _, ref, profiles, _ = setup
    ranker = LearnedRanker(d, full, check_catalog=False)
    elig = evaluate_catalog(full, profiles, dt.date(2022, 6, 30), ref)
    low, high = benefit_matrix(elig)
    point = (low + high) / 2
    scores = ranker.score(elig, point)
    verdict = elig.verdict_matrix()
    assert np.all(scores.score[verdict == 0] == INELIGIBLE_SCORE)
    rows, cols = np.nonzero(np.ones_like(verdict, dtype=bool))
    prob = scores.probability_at(rows, cols).reshape(verdict.shape)
    assert np.all(prob[verdict == 0] == 0.0)
    cand = verdict >= 1
    assert np.all((prob[cand] >= 0) & (prob[cand] <= 1)) and prob[cand].std() > 0
    smart = elig.policy_ids.index("xx-smart-upgrade")
    assert np.isfinite(scores.score[verdict[:, smart] >= 1, smart]).all()      # unseen policy is scored
    assert (scores.score[verdict[:, smart] >= 1, smart] > INELIGIBLE_SCORE).all()
    for rank_by in ("relevance", "expected_value"):
        r = LearnedRanker(d, full, check_catalog=False, rank_by=rank_by)
        idx = r.order(elig, scores, point)
        ranked = np.take_along_axis(verdict, idx, axis=1)
        # the one hard rule: no ineligible policy above a candidate (verdicts are not a sort key)
        assert np.all(np.diff((ranked >= 1).astype(int), axis=1) <= 0)


def test_probability_on_demand_equals_full_matrix(setup, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import recommender.ranking.learned as lr
    d, full, _, ref, profiles, _ = setup
    small = LearnedRanker(d, full, check_catalog=False)
    elig0 = evaluate_catalog(full, profiles, dt.date(2022, 6, 30), ref)
    assert small.score(elig0, np.zeros(elig0.verdict_matrix().shape)).approval_probability is not None
    monkeypatch.setattr(lr, "SMALL_PREDICT", 0)                  # a "large" batch: on demand
    elig = evaluate_catalog(full, profiles, dt.date(2022, 6, 30), ref)
    low, high = benefit_matrix(elig)
    point = (low + high) / 2
    lazy = LearnedRanker(d, full, check_catalog=False).score(elig, point)
    eager = LearnedRanker(d, full, check_catalog=False, rank_by="expected_value").score(elig, point)
    assert lazy.approval_probability is None and eager.approval_probability is not None
    np.testing.assert_array_equal(lazy.score, eager.score)
    rows, cols = np.array([5, 0, 5, 59]), np.array([2, 1, 0, 3])      # any order, repeats allowed
    np.testing.assert_array_equal(lazy.probability_at(rows, cols), eager.approval_probability[rows, cols])


def test_compiled_trees_score_like_lightgbm(setup, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import recommender.ranking.learned as lr
    d, full, _, ref, profiles, _ = setup
    elig = evaluate_catalog(full, profiles, dt.date(2022, 6, 30), ref)
    low, high = benefit_matrix(elig)
    point = (low + high) / 2
    plain = LearnedRanker(d, full, check_catalog=False, rank_by="expected_value").score(elig, point)
    monkeypatch.setattr(lr, "SMALL_PREDICT", 0)                 # every batch goes to the compiled trees
    compiled = LearnedRanker(d, full, check_catalog=False, rank_by="expected_value", compiled_dir=tmp_path)
    got = compiled.score(elig, point)
    assert sorted(p.name.split("-")[0] for p in tmp_path.glob("*.so")) == ["apply", "approval", "ranker"]
    np.testing.assert_allclose(got.score, plain.score, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.approval_probability, plain.approval_probability, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.apply_probability, plain.apply_probability, rtol=0, atol=1e-9)


def test_expected_value_orders_by_apply_times_approval_times_benefit(setup, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 21 item 5: ``expected_value`` is P(apply) × P(approve | apply) × benefit among the
    candidates; a model saved before P(apply) existed orders by P(approve | apply) × benefit."""
    import json
    import shutil
    from recommender.ranking.rules import order_candidates
    d, full, _, ref, profiles, _ = setup
    elig = evaluate_catalog(full, profiles, dt.date(2022, 6, 30), ref)
    low, high = benefit_matrix(elig)
    point = (low + high) / 2
    verdict = elig.verdict_matrix()
    ev = LearnedRanker(d, full, check_catalog=False, rank_by="expected_value")
    assert ev.has_apply and ev.needs_apply and not LearnedRanker(d, full, check_catalog=False).needs_apply
    scores = ev.score(elig, point)
    cand = verdict >= 1
    apply = scores.apply_probability
    assert apply is not None and np.all(apply[~cand] == 0) and np.all((apply[cand] >= 0) & (apply[cand] <= 1))
    assert apply[cand].std() > 0
    assert scores.approval_probability is not None
    value = scores.approval_probability * apply * point
    np.testing.assert_array_equal(ev.order(elig, scores, point), order_candidates(verdict, value, scores.score))
    # the two factors disagree somewhere, so the product is not either order
    approval_only = order_candidates(verdict, scores.approval_probability * point, scores.score)
    assert not np.array_equal(ev.order(elig, scores, point), approval_only)
    old = tmp_path / "old"
    shutil.copytree(d, old)
    manifest = json.loads((old / "manifest.json").read_text())
    for name in ("apply_classifier.txt", "apply_calibrator.json"):
        (old / name).unlink()
        del manifest["files"][name]
    (old / "manifest.json").write_text(json.dumps(manifest))
    legacy = LearnedRanker(old, full, check_catalog=False, rank_by="expected_value")
    assert not legacy.has_apply and not legacy.needs_apply
    got = legacy.score(elig, point)
    assert got.apply_probability is None
    np.testing.assert_array_equal(legacy.order(elig, got, point), approval_only)


def test_explain_names_features_in_words(setup) -> None:  # type: ignore[no-untyped-def]
    d, _, catalog, ref, profiles, _ = setup
    ranker = LearnedRanker(d, catalog)
    elig = evaluate_catalog(catalog, profiles, dt.date(2021, 6, 30), ref)
    verdict = elig.verdict_matrix()
    row, col = map(int, np.argwhere(verdict >= 1)[0])
    reasons = ranker.explain(elig, row, col)
    assert reasons and all(isinstance(r, str) and r.endswith("the rank)") for r in reasons)
    bad = np.argwhere(verdict == 0)
    if len(bad):
        assert ranker.explain(elig, int(bad[0][0]), int(bad[0][1])) == []


def test_match_results_carry_rank_reasons_when_explained(setup) -> None:  # type: ignore[no-untyped-def]
    from recommender.matching.results import MatchOptions, match_frame
    d, _, catalog, ref, profiles, _ = setup
    ranker = LearnedRanker(d, catalog)
    day = dt.date(2021, 6, 30)
    explained = match_frame(profiles.head(5), catalog, day, ref, MatchOptions(top_k=3, explain=True), ranker)
    plain = match_frame(profiles.head(5), catalog, day, ref, MatchOptions(top_k=3), ranker)
    shown = [m for r in explained for m in r["matches"]]
    assert shown and all(m["rank_reasons"] for m in shown)
    assert all("rank_reasons" not in m for r in plain for m in r["matches"])
    elig = evaluate_catalog(catalog, profiles.head(5), day, ref)
    first = explained[0]["matches"][0]
    col = elig.policy_ids.index(first["policy_id"])
    assert first["rank_reasons"] == ranker.explain(elig, 0, col)


def test_metrics_are_reported(setup) -> None:  # type: ignore[no-untyped-def]
    result = setup[-1]
    assert set(result.metrics["models"]) == {"lambdarank", "two_stage", "rules", "popularity", "logistic"}
    assert 0.0 <= result.metrics["approval_ece"] <= 1.0 and 0.0 <= result.metrics["apply_ece"] <= 1.0


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6).flatmap(lambda p: st.tuples(
    arrays(np.int8, (5, p), elements=st.integers(0, 2)),
    arrays(np.float64, (5, p), elements=st.floats(-1e6, 1e6) | st.just(np.nan)),
    arrays(np.float64, (5, p), elements=st.floats(-1e6, 1e6) | st.just(np.nan)))))
def test_eligible_never_below_ineligible(data) -> None:  # type: ignore[no-untyped-def]
    verdict, score, benefit = data
    idx = order(verdict, score, benefit)
    ranked = np.take_along_axis(verdict, idx, axis=1).astype(int)
    assert np.all(np.diff(ranked, axis=1) <= 0)
    assert sorted(idx[0].tolist()) == list(range(verdict.shape[1]))


def test_category_code_features_are_explained_by_their_category(setup) -> None:  # type: ignore[no-untyped-def]
    d, full, _, ref, profiles, _ = setup
    ranker = LearnedRanker(d, full, check_catalog=False)
    assert "size_class" in ranker.feature_names and "size_class=small" not in ranker.feature_names
    categories = ranker.encoder.categories["size_class"]
    elig = evaluate_catalog(full, profiles, dt.date(2022, 6, 30), ref)
    code = float(categories.index("small"))
    assert ranker._describe("size_class", 0.2, code, None, elig, 0) == "size class is small (raises the rank)"
    assert ranker._describe("size_class", -0.2, np.nan, None, elig, 0) == "size class is unknown (lowers the rank)"
