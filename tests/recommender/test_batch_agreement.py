"""Property: evaluating firms one at a time and as one batch gives identical outcomes."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from functools import lru_cache

from recommender.rules.catalog import Catalog, load_catalog
from recommender.engine.eligibility import evaluate_catalog
from recommender.profile.frame import profiles_to_frame
from recommender.profile.model import CERTIFICATIONS, parse_profile
from recommender.profile.reference import ReferenceTables, load_reference


@lru_cache(maxsize=1)
def _setup() -> tuple[Catalog, ReferenceTables]:
    """Loaded once; not fixtures, so Hypothesis never prints them in a failure report."""
    return load_catalog(), load_reference()

INDUSTRIES = ["C3670", "C36", "C", "C16", "I65", "I6513", "F52", "H62", "K7010", "L72", "M73",
              "A01", "E47", "G54", "G592", "J66", "B06", "D44", "Q85", "R90"]
REGIONS = ["500112", "500101", "500103", "110105"]


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


money = st.sampled_from([0.0, 1.0, 499_999.0, 1_000_000.0, 3_000_000.0, 9_999_999.0, 10_000_000.0,
                         20_000_000.0, 50_000_000.0, 50_000_001.0, 100_000_000.0, 200_000_000.0,
                         200_000_001.0]) | st.floats(0, 5e8, allow_nan=False)
share = st.sampled_from([0.0, 0.03, 0.05, 0.1, 0.6, 0.7, 1.0]) | st.floats(0, 1)
count = st.integers(0, 3000)

profiles = st.fixed_dictionaries(
    {"industry_code": st.sampled_from(INDUSTRIES), "region_code": st.sampled_from(REGIONS)},
    optional={
        "established_on": st.dates(dt.date(1990, 1, 1), dt.date(2022, 6, 30)).map(dt.date.isoformat),
        "employees": count, "revenue": money, "revenue_prev": money, "total_assets": money,
        "taxable_income": st.floats(-1e7, 1e8, allow_nan=False), "rd_expense": money,
        "rd_expense_3y": money, "revenue_3y": money, "rd_domestic_share": share,
        "rd_staff": count, "tech_staff": count, "high_tech_revenue_share": share,
        "main_business_share": share, "years_in_niche": st.floats(0, 30), "class1_ip": st.integers(0, 6),
        "class2_ip": st.integers(0, 6), "equity_financing_2y": money,
        "certifications": st.lists(st.sampled_from(CERTIFICATIONS), unique=True, max_size=4),
        "tax_credit_rating": st.sampled_from(["A", "B", "M", "C", "D"]),
        "dishonest_record": st.booleans(), "major_incident_last_year": st.booleans(),
        "export_share": share, "ui_premium_paid": money, "insured_employees": count,
        "layoff_rate": share, "graduates_hired": st.integers(0, 50), "vat_credit_balance": money,
        "leases_state_property": st.booleans(),
    },
)


@settings(max_examples=40, deadline=None)
@given(batch=st.lists(profiles, min_size=1, max_size=8),
       as_of=st.sampled_from([dt.date(2021, 6, 30), dt.date(2022, 6, 30), dt.date(2022, 11, 1), dt.date(2023, 6, 30)]))
def test_single_and_batch_agree(batch, as_of) -> None:
    catalog, ref = _setup()
    parsed = [parse_profile({"firm_id": f"F{i}", **p}, ref=ref) for i, p in enumerate(batch)]
    together = evaluate_catalog(catalog, profiles_to_frame(parsed), as_of, ref)
    for i, profile in enumerate(parsed):
        alone = evaluate_catalog(catalog, profiles_to_frame([profile]), as_of, ref)
        for pid, outcome in alone.outcomes.items():
            joint = together.outcomes[pid]
            assert joint.verdict[i] == outcome.verdict[0], (pid, batch[i])
            for path, values in outcome.nodes.items():
                assert joint.nodes[path][i] == values[0], (pid, path, batch[i])
            lo_a, hi_a = outcome.policy.estimate(alone.frame)
            lo_b, hi_b = outcome.policy.estimate(together.frame)
            np.testing.assert_array_equal([lo_a[0], hi_a[0]], [lo_b[i], hi_b[i]])
