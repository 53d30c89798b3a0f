"""Benefit totals, held titles, ladders and mutual exclusion (policy-facts §2.3, §4, §6, §12)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from recommender.rules.catalog import Catalog, Exclusion, Relations, check_relations
from recommender.engine.eligibility import evaluate_catalog
from recommender.errors import CatalogError
from recommender.profile.frame import profiles_to_frame
from recommender.matching.results import MatchOptions, match_frame
from recommender.profile.model import parse_profile
from recommender.engine.relations import grantor_of, relation_view, totals

AS_OF = dt.date(2022, 6, 30)
SMALL: dict[str, Any] = {
    "firm_id": "S1", "region_code": "500112", "industry_code": "C3670", "established_on": "2015-03-18",
    "employees": 120, "revenue": 40_000_000.0, "total_assets": 30_000_000.0, "taxable_income": 800_000.0,
    "certifications": [],
}
LARGE: dict[str, Any] = {**SMALL, "firm_id": "L1", "employees": 400, "total_assets": 300_000_000.0,
                         "revenue": 300_000_000.0, "taxable_income": 5_000_000.0, "certifications": ["hnte"]}


def _match(catalog, ref, profile: dict[str, Any], **opts: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    options = MatchOptions(**{"top_k": None, "include_all": True, **opts})
    return match_frame(profiles_to_frame([parse_profile(profile, ref=ref)]), catalog, AS_OF, ref, options)[0]


def _by_id(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["policy_id"]: m for m in result["matches"]}


# Benefit formulas against hand-computed yuan amounts -------------------------------------------

@pytest.mark.parametrize(("ti", "as_of", "saving"), [
    (800_000.0, dt.date(2022, 6, 30), 180_000.0),      # 25 % × 80万 − 2.5 % × 80万 = 20万 − 2万
    (3_000_000.0, dt.date(2022, 6, 30), 625_000.0),    # 75万 − (2.5万 + 5 % × 200万 = 12.5万)
    (800_000.0, dt.date(2023, 6, 30), 160_000.0),      # 2023: 5 % flat → 20万 − 4万
    (3_000_000.0, dt.date(2021, 6, 30), 525_000.0),    # 2021: 75万 − (2.5万 + 10 % × 200万)
    (-50_000.0, dt.date(2022, 6, 30), 0.0),            # a loss meets the test but saves nothing
])
def test_small_low_profit_saving(catalog, ref, ti: float, as_of: dt.date, saving: float) -> None:
    frame = profiles_to_frame([parse_profile({**SMALL, "taxable_income": ti}, ref=ref)])
    res = match_frame(frame, catalog, as_of, ref, MatchOptions(top_k=None, include_all=True))[0]
    m = _by_id(res)["cn-small-low-profit-cit"]
    assert m["verdict"] == "eligible"
    assert m["estimated_benefit"] == pytest.approx(saving, abs=0.01)


def test_hnte_rate_saving_per_year(catalog, ref) -> None:
    # (25 % − 15 %) × 5,000,000 = 500,000 a year; recognition is estimated over its 3 years.
    res = _match(catalog, ref, LARGE)
    rate = _by_id(res)["cn-hnte-cit-rate"]
    assert rate["verdict"] == "eligible"
    assert rate["benefit"]["per_year"] == pytest.approx(500_000.0)
    recog = _by_id(res)["cn-hnte-recognition"]
    assert recog["estimated_benefit"] == pytest.approx(1_500_000.0)
    assert recog["benefit"]["per_year"] == pytest.approx(500_000.0)


# Unknown is never zero -------------------------------------------------------------------------

def test_zero_benefit_differs_from_unknown(catalog, ref) -> None:
    zero = _by_id(_match(catalog, ref, {**SMALL, "taxable_income": 0.0}))["cn-small-low-profit-cit"]
    unknown = _by_id(_match(catalog, ref, {**SMALL, "taxable_income": None}))["cn-small-low-profit-cit"]
    assert (zero["verdict"], zero["estimated_benefit"]) == ("eligible", 0.0)
    assert (unknown["verdict"], unknown["estimated_benefit"]) == ("undetermined", None)


# Totals and mutual exclusion -------------------------------------------------------------------

def test_total_counts_each_eligible_policy_once(catalog, ref) -> None:
    res = _match(catalog, ref, SMALL, explain=True)
    counted = res["total_breakdown"]["counted"]
    values = {m["policy_id"]: m["estimated_benefit"] for m in res["matches"]}
    assert res["total_estimated_benefit"] == pytest.approx(sum(values[p] for p in counted))
    assert all(_by_id(res)[p]["verdict"] == "eligible" for p in counted)


def _with_relations(catalog: Catalog, changes: dict[str, Relations]) -> Catalog:
    policies = []
    for p in catalog:
        if p.id in changes:
            header = p.header.model_copy(update={"relations": changes[p.id]})
            p = type(p)(header=header, criteria=p.criteria, benefit_formula=p.benefit_formula, file=p.file)
        policies.append(p)
    return Catalog(tuple(policies), "test")


def test_exclusion_keeps_the_better_policy_and_says_why(catalog, ref) -> None:
    # Both the small low-profit saving (180,000) and the UI refund are eligible; declare them
    # mutually exclusive to check the mechanism: the better one stays in the total.
    firm = {**SMALL, "ui_premium_paid": 100_000.0, "insured_employees": 120, "layoff_rate": 0.0}
    ex = Exclusion(policy="cn-small-low-profit-cit", reason_zh="测试", reason_en="test", clause="§test")
    cat = _with_relations(catalog, {"cn-ui-job-stabilisation-refund": Relations(excludes=(ex,))})
    res = _match(cat, ref, firm, explain=True)
    ui, slp = _by_id(res)["cn-ui-job-stabilisation-refund"], _by_id(res)["cn-small-low-profit-cit"]
    assert (ui["estimated_benefit"], slp["estimated_benefit"]) == (90_000.0, 180_000.0)
    assert ui["relations"]["not_stacked"] == {"kept": "cn-small-low-profit-cit", "reason": "测试 / test",
                                             "clause": "§test"}
    assert "not_stacked" not in slp["relations"]
    assert slp["relations"]["does_not_stack_with"] == [
        "cn-hnte-cit-rate", "cn-hnte-recognition", "cn-ui-job-stabilisation-refund"]
    assert res["total_breakdown"]["not_stacked"] == ["cn-ui-job-stabilisation-refund"]
    plain = _match(catalog, ref, firm)
    assert plain["total_estimated_benefit"] - res["total_estimated_benefit"] == pytest.approx(90_000.0)


def test_hnte_rate_and_small_low_profit_do_not_stack(catalog, ref) -> None:
    # An HNTE holder that is also small low-profit: the small low-profit rate is the better one
    # (TI ≤ 300万); the HNTE rate saving is 0 and is dropped from the total (§2.3).
    res = _match(catalog, ref, {**SMALL, "certifications": ["hnte"]}, explain=True)
    rate = _by_id(res)["cn-hnte-cit-rate"]
    assert rate["verdict"] == "eligible" and rate["estimated_benefit"] == 0.0
    assert rate["relations"]["not_stacked"]["kept"] == "cn-small-low-profit-cit"
    assert "cn-hnte-cit-rate" in res["total_breakdown"]["not_stacked"]
    assert "cn-small-low-profit-cit" in res["total_breakdown"]["counted"]


def test_relation_view_vectorised_ties_keep_catalog_order(catalog, ref) -> None:
    ex = Exclusion(policy="cn-small-low-profit-cit", reason_zh="z", reason_en="e")
    cat = _with_relations(catalog, {"cn-ui-job-stabilisation-refund": Relations(excludes=(ex,))})
    policies = list(cat)
    i, j = cat.ids.index("cn-small-low-profit-cit"), cat.ids.index("cn-ui-job-stabilisation-refund")
    verdicts = np.zeros((3, len(policies)), dtype=np.int8)
    verdicts[:, [i, j]] = 2
    benefit = np.full((3, len(policies)), np.nan)
    benefit[:, i] = [5.0, 5.0, np.nan]
    benefit[:, j] = [9.0, 5.0, 1.0]
    frame = evaluate_catalog(
        policies[:1], profiles_to_frame([parse_profile({**SMALL, "firm_id": f"F{k}"}, ref=ref) for k in range(3)]),
        AS_OF, ref).frame
    view = relation_view(policies, frame, verdicts, benefit)
    assert view.kept_instead[:, i].tolist() == [j, -1, j]     # row 1 tie: lower column (id order) kept
    assert view.kept_instead[:, j].tolist() == [-1, i, -1]
    assert totals(view, benefit)[0].tolist() == [9.0, 5.0, 1.0]


# Held titles and ladders ------------------------------------------------------------------------

def test_held_title_is_not_offered_again_and_next_rung_is_shown(catalog, ref) -> None:
    firm = {**SMALL, "certifications": ["srdi_sme"]}
    default = _match(catalog, ref, firm, include_all=False, top_k=None)
    assert "cn-srdi-sme" not in _by_id(default)
    (held,) = [h for h in default["held_titles"] if h["title"] == "srdi_sme"]
    assert held["policy_id"] == "cn-srdi-sme"
    assert [r["policy_id"] for r in held["next_rungs"]] == ["cn-little-giant"]
    assert "valid 3 years" in held["renewal"]["en"] and "no issue date" in held["renewal"]["en"]
    everything = _by_id(_match(catalog, ref, firm))
    assert everything["cn-srdi-sme"]["relations"]["title_held"] is True
    assert everything["cn-little-giant"]["relations"]["requires"] == [
        {"policy_id": "cn-srdi-sme", "title": "srdi_sme", "held": True}]


def test_held_title_is_left_out_of_the_total(catalog, ref) -> None:
    res = _match(catalog, ref, {**SMALL, "certifications": ["above_scale"]}, explain=True)
    assert "cq-above-scale-upgrade" not in res["total_breakdown"]["counted"]


def test_unknown_related_policy_is_a_catalog_error(catalog) -> None:
    giant = catalog.get("cn-little-giant").header.relations
    bad = _with_relations(catalog, {"cn-little-giant": giant.model_copy(update={"requires": ("cn-nope",)})})
    with pytest.raises(CatalogError, match=r"policy cn-little-giant.*relations.requires.*unknown policy 'cn-nope'"):
        check_relations({p.id: p for p in bad})


def test_succession_must_be_stated_on_both_sides(catalog) -> None:
    srdi = catalog.get("cn-srdi-sme").header.relations
    one_sided = _with_relations(catalog, {"cn-srdi-sme": srdi.model_copy(update={"replaced_by": ("cn-little-giant",)})})
    with pytest.raises(CatalogError, match=r"policy cn-srdi-sme.*relations.replaced_by.*'cn-little-giant' does not list "
                                           r"'cn-srdi-sme' under relations.replaces"):
        check_relations({p.id: p for p in one_sided})
    unknown = _with_relations(catalog, {"cn-srdi-sme": srdi.model_copy(update={"replaces": ("cn-nope",)})})
    with pytest.raises(CatalogError, match=r"relations.replaces.*unknown policy 'cn-nope'"):
        check_relations({p.id: p for p in unknown})


def test_catalog_successions_are_mutual(catalog) -> None:
    rel = {p.id: p.header.relations for p in catalog}
    assert rel["cn-srdi-sme"].replaced_by == ("cn-srdi-sme-2026",)
    assert rel["cn-srdi-sme-2026"].replaces == ("cn-srdi-sme",)
    assert rel["cn-little-giant-2026"].next_rung_of == "cn-srdi-sme-2026"
    assert rel["cn-srdi-sme-2026"].next_rung_of == "cn-tech-innovative-sme-2026"
    for pid, r in rel.items():
        for later in r.replaced_by:
            assert pid in rel[later].replaces


@pytest.mark.parametrize(("as_of", "policy_id", "rungs"), [
    (dt.date(2026, 3, 31), "cn-srdi-sme", ["cn-little-giant"]),         # last day of the 63号 ladder
    (dt.date(2026, 4, 1), "cn-srdi-sme-2026", ["cn-little-giant-2026"]),  # 工信部企业〔2026〕2号 in force
])
def test_held_title_is_listed_once_under_the_version_in_force(catalog, ref, as_of: dt.date, policy_id: str,
                                                              rungs: list[str]) -> None:
    firm = {**SMALL, "certifications": ["srdi_sme"]}
    options = MatchOptions(top_k=None, include_all=False)
    res = match_frame(profiles_to_frame([parse_profile(firm, ref=ref)]), catalog, as_of, ref, options)[0]
    (held,) = [h for h in res["held_titles"] if h["title"] == "srdi_sme"]
    assert held["policy_id"] == policy_id
    assert [r["policy_id"] for r in held["next_rungs"]] == rungs


def test_a_title_is_obtained_through_the_version_in_force(catalog) -> None:
    policies = list(catalog)
    assert grantor_of(policies, dt.date(2026, 3, 31))["srdi_sme"] == "cn-srdi-sme"
    assert grantor_of(policies, dt.date(2026, 4, 1))["srdi_sme"] == "cn-srdi-sme-2026"
    assert grantor_of(policies, dt.date(2026, 4, 1))["innovative_sme"] == "cn-tech-innovative-sme-2026"
    assert grantor_of(policies, dt.date(2025, 1, 1))["enterprise_tech_center"] == "cq-enterprise-tech-center-2025"
    assert grantor_of(policies)["srdi_sme"] == "cn-srdi-sme"      # no date: the first in catalog order
