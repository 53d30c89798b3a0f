"""Property: the one-firm path (RowFrame, the facts' scalar rules, EligibilityPlan, row scoring, scalar
formulas, firm_row) equals the vectorised engine for generated profiles × every policy."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.engine.eligibility import evaluate_catalog, explain_row
from recommender.facts.frame import EvalFrame
from recommender.profile.frame import profiles_to_frame
from recommender.ranking.pairs import firm_columns, firm_row, margin_summary
from recommender.profile.model import parse_profile
from recommender.engine.plan import EligibilityPlan
from recommender.facts.rowframe import RowFrame
from recommender.rules.scoring import Score, indicator_points
from tests.recommender.frame_kit import assert_same_frame
from tests.strategies import catalog_and_ref, profiles

AS_OFS = [dt.date(2019, 2, 28), dt.date(2021, 6, 30), dt.date(2022, 6, 30), dt.date(2022, 11, 1),
          dt.date(2024, 2, 29)]


@lru_cache(maxsize=1)
def _plan() -> EligibilityPlan:
    catalog, _ = catalog_and_ref()
    return EligibilityPlan(list(catalog))


def _same(a: object, b: object) -> bool:
    return bool(np.array_equal(np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64"), equal_nan=True))


@settings(max_examples=120, deadline=None)
@given(raw=profiles, as_of=st.sampled_from(AS_OFS))
def test_one_firm_plan_equals_the_engine(raw, as_of) -> None:  # type: ignore[no-untyped-def]
    catalog, ref = catalog_and_ref()
    profile = parse_profile({"firm_id": "F1", **raw}, ref=ref)
    engine = evaluate_catalog(catalog, profiles_to_frame([profile]), as_of, ref)
    row = RowFrame(profile, as_of, ref)
    assert_same_frame(row, engine.frame, pandas=False)
    got = _plan().dated(as_of).evaluate(row)
    for j, (pid, outcome) in enumerate(engine.outcomes.items()):
        assert got.verdicts[j] == int(outcome.verdict[0]), pid
        assert got.regions[j] == int(outcome.region[0]), pid
        for path, codes in outcome.nodes.items():
            assert got.node_code(j, path) == int(codes[0]), (pid, path)
        assert got.share_met(j) == outcome.share_met()[0], pid
        assert got.unknown_count(j) == outcome.unknown_count()[0], pid
        assert _same(got.margin_summary(j), [m[0] for m in margin_summary(outcome, engine)]), pid
        assert got.explain(j) == explain_row(outcome, engine.frame, 0), pid
        lo, hi = outcome.policy.estimate(engine.frame)
        assert _same(outcome.policy.estimate_row(row, 0), [lo[0], hi[0]]), pid
        for leaf in outcome.policy.leaves:
            if isinstance(leaf, Score):                # intervals left for the node's explanations
                fresh = EvalFrame.from_profiles(engine.frame.profiles, as_of, ref)
                assert _same(leaf.totals(row)[0], leaf.totals(fresh)[0]), pid
                for block in leaf.blocks:
                    for ind in block.indicators:
                        assert _same(indicator_points(ind, row), indicator_points(ind, fresh)), (pid, ind.id)
    want = firm_columns(engine)
    have = firm_row(row, 0)
    assert list(have) == list(want)
    for name, values in want.items():
        v = values[0]
        if isinstance(v, float):
            assert _same(have[name], v), name
        else:
            assert have[name] == v, name


def test_a_reused_plan_date_is_refused_for_another_frame() -> None:
    catalog, ref = catalog_and_ref()
    profile = parse_profile({"firm_id": "F1", "industry_code": "C3670", "region_code": "500112"}, ref=ref)
    plan = _plan().dated(dt.date(2022, 6, 30))
    with pytest.raises(ValueError, match=r"^frame as of 2023-01-01, plan as of 2022-06-30$"):
        plan.evaluate(RowFrame(profile, dt.date(2023, 1, 1), ref))
