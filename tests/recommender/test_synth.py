"""Synthetic registry and history: determinism, SPEC §2 columns, valid codes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.rules.catalog import Catalog, load_catalog
from recommender.profile.frame import coerce_frame
from recommender.profile.model import PROFILE_FIELDS, parse_profile
from recommender.profile.reference import ReferenceTables, load_reference
from recommender.settings import DEFAULT_DATA_DIR
from recommender.learning.synth import REGIONS, generate_interactions, generate_registry, registry_to_parquet_frame
from recommender.profile.uscc import credit_code_problem

LTR_CATALOG = Path(__file__).resolve().parent / "ltr_catalog"
END = dt.date(2022, 12, 31)


@pytest.fixture(scope="module")
def ltr() -> tuple[Catalog, ReferenceTables]:
    return load_catalog(LTR_CATALOG), load_reference(DEFAULT_DATA_DIR)


def test_same_seed_same_data(ltr: tuple[Catalog, ReferenceTables]) -> None:
    catalog, ref = ltr
    a, b = generate_registry(300, 5, END), generate_registry(300, 5, END)
    pd.testing.assert_frame_equal(a, b)
    ea = generate_interactions(a, catalog, ref, 2, 5, END)
    eb = generate_interactions(b, catalog, ref, 2, 5, END)
    pd.testing.assert_frame_equal(ea, eb)
    assert not generate_registry(300, 6, END).equals(a)


def test_registry_has_every_spec_column_and_valid_values(ltr: tuple[Catalog, ReferenceTables]) -> None:
    _, ref = ltr
    reg = registry_to_parquet_frame(generate_registry(400, 1, END))
    assert list(reg.columns) == list(PROFILE_FIELDS)
    assert set(reg["region_code"]) <= set(REGIONS)
    assert len(REGIONS) == 38
    codes = reg["credit_code"].dropna()
    assert len(codes) > 300 and all(credit_code_problem(c) is None for c in codes)
    assert reg["revenue"].isna().mean() < 0.2
    # every row passes SPEC §2 validation
    for rec in reg.head(60).to_dict("records"):
        rec = {k: v for k, v in rec.items() if v is not None and not pd.isna(v)}
        if "certifications" in rec:
            rec["certifications"] = [c for c in rec["certifications"].split(";") if c]
        for k in ("employees", "rd_staff", "tech_staff", "invention_patents", "class1_ip", "class2_ip",
                  "insured_employees", "graduates_hired"):
            if k in rec:
                rec[k] = int(rec[k])
        for k in ("listed", "dishonest_record", "major_incident_last_year", "leases_state_property"):
            if k in rec:
                rec[k] = bool(rec[k])
        parse_profile(rec, ref=ref)
    coerce_frame(reg)


def test_history_outcomes_and_dates(ltr: tuple[Catalog, ReferenceTables]) -> None:
    catalog, ref = ltr
    reg = generate_registry(800, 2, END)
    ev = generate_interactions(reg, catalog, ref, 3, 2, END)
    assert list(ev.columns) == ["firm_id", "policy_id", "event_date", "outcome"]
    assert set(ev["outcome"]) <= {"approved", "rejected", "applied"}
    assert ev["event_date"].min() >= dt.date(2020, 1, 1) and ev["event_date"].max() <= END
    # a policy starting in 2022 has no earlier events
    smart = ev.loc[ev["policy_id"] == "xx-smart-upgrade", "event_date"]
    assert smart.empty or smart.min() >= dt.date(2022, 1, 1)


def test_application_effort_and_cultivation_pool_as_documented() -> None:
    from recommender.learning.mechanisms import application_shift
    size = np.array([0, 1, 2, 3])
    pool = np.array([True, False, False, True])
    # a file to prepare weighs on micro firms, helps nobody below "large" as much as a tax return
    assert application_shift("subsidy", "employment", size, pool).tolist() == [-0.7, -0.2, 0.2, 0.4]
    assert application_shift("tax_saving", "innovation", size, pool).tolist() == [0.5] * 4
    # holders of a ladder title hear about the next recognition
    rec = application_shift("recognition", "specialized_sme", size, pool)
    assert rec.tolist() == pytest.approx([0.8, -0.2, 0.2, 1.9])
    assert application_shift("recognition", "green", size, pool).tolist() == [-0.7, -0.2, 0.2, 0.4]


def test_approval_jumps_at_a_comfortable_margin_and_documents_matter_less_for_large_firms() -> None:
    from recommender.learning.mechanisms import approval_logit
    z = np.zeros(4)
    margins = np.array([0.0, 0.19, 0.2, 2.0])
    logit = approval_logit(z, margins, z, np.zeros(4, int), z, z)
    jumps = np.diff(logit)
    assert jumps[1] > 2.0 > jumps[0] and jumps[2] < 1.0      # jump at 20 %, saturation above
    q = np.array([1.0, 1.0])
    gap = approval_logit(np.zeros(2), np.zeros(2), q, np.array([0, 3]), np.zeros(2), np.zeros(2))
    assert gap[0] - gap[1] == pytest.approx(0.9)              # weight 1.2 (micro) vs 0.3 (large)


def test_mechanisms_show_in_the_history(ltr: tuple[Catalog, ReferenceTables]) -> None:
    """Micro firms apply less for files to prepare (subsidies, awards) than for tax relief."""
    catalog, ref = ltr
    reg = generate_registry(3000, 4, END)
    ev = generate_interactions(reg, catalog, ref, 3, 4, END)
    size = reg.set_index("firm_id")["_size"]
    kind = {p.id: p.header.benefit.kind for p in catalog}
    ev = ev.assign(size=ev["firm_id"].map(size), paper=ev["policy_id"].map(kind) != "tax_saving")
    micro = ev.loc[ev["size"] == 0, "paper"].mean()
    larger = ev.loc[ev["size"] >= 2, "paper"].mean()
    assert micro < larger
    again = generate_interactions(reg, catalog, ref, 3, 4, END)
    pd.testing.assert_frame_equal(ev.drop(columns=["size", "paper"]), again)


def test_documents_matter_for_a_file_not_for_a_tax_return() -> None:
    from recommender.learning.mechanisms import approval_logit
    z, q = np.zeros(1), np.ones(1)
    micro = np.zeros(1, int)
    paper = approval_logit(z, z, q, micro, z, z, paperwork=True) - approval_logit(z, z, z, micro, z, z, True)
    tax = approval_logit(z, z, q, micro, z, z, paperwork=False) - approval_logit(z, z, z, micro, z, z, False)
    assert paper[0] == pytest.approx(1.2) and tax[0] == pytest.approx(0.2)
