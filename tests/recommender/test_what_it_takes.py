"""What it takes: exact shortfalls, verified by applying the change and re-running eligibility.

Every suggested change is applied to the profile and the policy must then pass; the same
change one unit (one yuan, one person) smaller must not.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from recommender.rules.catalog import Catalog
from recommender.engine.eligibility import VERDICTS, evaluate_catalog
from recommender.profile.frame import profiles_to_frame
from recommender.matching.results import MatchOptions, match_frame
from recommender.profile.model import FirmProfile, parse_profile

AS_OF = dt.date(2022, 6, 30)
COUNTS = {n for n, f in FirmProfile.model_fields.items() if "int" in str(f.annotation)}

# A small Chongqing manufacturer that meets the measurable 专精特新 conditions except where a
# test says otherwise (policy-facts §4b).
BASE: dict[str, Any] = {
    "firm_id": "W1", "region_code": "500112", "industry_code": "C3670", "established_on": "2015-03-18",
    "employees": 120, "revenue": 40_000_000.0, "revenue_prev": 36_000_000.0, "total_assets": 30_000_000.0,
    "taxable_income": 800_000.0, "rd_expense": 1_600_000.0, "rd_expense_3y": 5_000_000.0,
    "revenue_3y": 100_000_000.0, "rd_domestic_share": 1.0, "rd_staff": 20, "tech_staff": 20,
    "high_tech_revenue_share": 0.7, "main_business_share": 0.9, "years_in_niche": 4.0,
    "class1_ip": 1, "class2_ip": 3, "equity_financing_2y": 0.0, "certifications": [],
    "dishonest_record": False, "major_incident_last_year": False,
}


def _explain(catalog: Catalog, ref, profile: dict[str, Any], policy_id: str,  # type: ignore[no-untyped-def]
             as_of: dt.date = AS_OF) -> dict[str, Any]:
    frame = profiles_to_frame([parse_profile(profile, ref=ref)])
    res = match_frame(frame, catalog, as_of, ref, MatchOptions(top_k=None, include_all=True, explain=True))
    match = next(m for m in res[0]["matches"] if m["policy_id"] == policy_id)
    return match["what_it_takes"]


def _verdict(catalog: Catalog, ref, profile: dict[str, Any], policy_id: str,  # type: ignore[no-untyped-def]
             as_of: dt.date = AS_OF) -> str:
    elig = evaluate_catalog([catalog.get(policy_id)], profiles_to_frame([parse_profile(profile, ref=ref)]),
                            as_of, ref)
    return VERDICTS[int(elig.outcomes[policy_id].verdict[0])]


def _apply(profile: dict[str, Any], steps: list[dict[str, Any]], shrink: str | None = None) -> dict[str, Any]:
    """The profile after the raise steps; ``shrink`` makes that field's change one unit smaller."""
    out = dict(profile)
    for s in steps:
        if s["kind"] == "raise":
            value = s["to"] - (1 if s["field"] == shrink else 0)
            out[s["field"]] = int(value) if s["field"] in COUNTS else float(value)
        elif s["kind"] == "obtain":
            out["certifications"] = sorted(set(out.get("certifications") or []) | {s["title"]})
    return out


def test_ratio_translated_to_numerator_and_merged_with_amount(catalog, ref) -> None:
    # R&D must be ≥ 1,000,000 AND ≥ 3 % of revenue: 3 % of 20,000,000 is 600,000, so the
    # binding target is the amount, 1,000,000 (+600,000 from 400,000).
    firm = {**BASE, "revenue": 20_000_000.0, "rd_expense": 400_000.0}
    takes = _explain(catalog, ref, firm, "cn-srdi-sme")
    raises = [s for s in takes["steps"] if s["kind"] == "raise"]
    assert [(s["field"], s["from"], s["to"], s["by"]) for s in raises] == [
        ("rd_expense", 400_000.0, 1_000_000.0, 600_000.0)]
    assert takes["achievable"] and takes["verified"]
    assert _verdict(catalog, ref, _apply(firm, raises), "cn-srdi-sme") != "ineligible"
    assert _verdict(catalog, ref, _apply(firm, raises, shrink="rd_expense"), "cn-srdi-sme") == "ineligible"


def test_ratio_shortfall_in_yuan(catalog, ref) -> None:
    # rd_intensity ≥ 3 % with revenue 60,000,000 needs 1,800,000; the firm has 1,488,000.
    firm = {**BASE, "revenue": 60_000_000.0, "rd_expense": 1_488_000.0}
    takes = _explain(catalog, ref, firm, "cn-srdi-sme")
    (step,) = [s for s in takes["steps"] if s["kind"] == "raise"]
    assert (step["field"], step["to"], step["by"]) == ("rd_expense", 1_800_000.0, 312_000.0)
    assert step["text"].startswith("R&D expense must rise by ¥312,000 (from ¥1,488,000 to ¥1,800,000) "
                                   "to reach 3 % of operating revenue")
    assert _verdict(catalog, ref, _apply(firm, [step]), "cn-srdi-sme") != "ineligible"
    assert _verdict(catalog, ref, _apply(firm, [step], shrink="rd_expense"), "cn-srdi-sme") == "ineligible"


@pytest.mark.parametrize(("revenue", "revenue_3y", "rd_3y", "target"), [
    (50_000_000.0, 100_000_000.0, 4_000_000.0, 5_000_000.0),     # 5000万 (incl.) → 5 % tier
    (50_000_001.0, 100_000_000.0, 3_000_000.0, 4_000_000.0),     # just above → 4 % tier
    (200_000_001.0, 400_000_000.0, 10_000_000.0, 12_000_000.0),  # above 2亿 → 3 % tier
])
def test_tiered_rule_uses_the_firms_tier(catalog, ref, revenue: float, revenue_3y: float, rd_3y: float,
                                         target: float) -> None:
    firm = {**BASE, "revenue": revenue, "revenue_3y": revenue_3y, "rd_expense_3y": rd_3y,
            "employees": 400, "tech_staff": 40, "total_assets": 300_000_000.0}
    takes = _explain(catalog, ref, firm, "cn-hnte-recognition")
    (step,) = [s for s in takes["steps"] if s["kind"] == "raise"]
    assert (step["field"], step["to"]) == ("rd_expense_3y", target)
    # The declared conditions (technology field, expert score) keep it undetermined, not eligible.
    assert takes["verdict_after"] == "undetermined" and takes["verified"]
    assert _verdict(catalog, ref, _apply(firm, [step]), "cn-hnte-recognition") == "undetermined"
    assert _verdict(catalog, ref, _apply(firm, [step], shrink="rd_expense_3y"),
                    "cn-hnte-recognition") == "ineligible"


def test_count_shortfall_on_staff_ratio(catalog, ref) -> None:
    # S&T staff ≥ 10 % of 120 employees: 12 people; the firm has 11.
    firm = {**BASE, "tech_staff": 11}
    takes = _explain(catalog, ref, firm, "cn-hnte-recognition")
    (step,) = [s for s in takes["steps"] if s["kind"] == "raise"]
    assert (step["field"], step["from"], step["to"], step["by"]) == ("tech_staff", 11.0, 12.0, 1.0)
    assert _verdict(catalog, ref, _apply(firm, [step]), "cn-hnte-recognition") == "undetermined"
    assert _verdict(catalog, ref, _apply(firm, [step], shrink="tech_staff"), "cn-hnte-recognition") == "ineligible"


def test_one_yuan_short_of_a_lower_bound(catalog, ref) -> None:
    firm = {**BASE, "revenue": 19_999_999.0}
    takes = _explain(catalog, ref, firm, "cq-above-scale-upgrade")
    (step,) = [s for s in takes["steps"] if s["kind"] == "raise"]
    assert (step["field"], step["to"], step["by"]) == ("revenue", 20_000_000.0, 1.0)
    assert takes["verdict_after"] == "eligible" and takes["verified"]
    assert _verdict(catalog, ref, _apply(firm, [step]), "cq-above-scale-upgrade") == "eligible"
    assert _verdict(catalog, ref, _apply(firm, [step], shrink="revenue"), "cq-above-scale-upgrade") == "ineligible"


def test_any_takes_the_cheapest_branch(catalog, ref) -> None:
    # Revenue ≥ 10,000,000 or equity financing ≥ 20,000,000: 1,000 yuan more revenue is cheaper.
    firm = {**BASE, "revenue": 9_999_000.0, "rd_expense": 1_000_000.0}
    takes = _explain(catalog, ref, firm, "cn-srdi-sme")
    raises = {s["field"]: s["to"] for s in takes["steps"] if s["kind"] == "raise"}
    assert raises == {"revenue": 10_000_000.0}
    assert _verdict(catalog, ref, _apply(firm, takes["steps"]), "cn-srdi-sme") != "ineligible"


def test_only_age_short_gives_a_date(catalog, ref) -> None:
    # Registered 2021-09-01; "one year or more" is met from 2022-09-01 (inclusive).
    firm = {**BASE, "established_on": "2021-09-01"}
    takes = _explain(catalog, ref, firm, "cn-hnte-recognition")
    assert takes["eligible_from"] == "2022-09-01"
    assert [s["kind"] for s in takes["steps"] if s["kind"] not in ("verify",)] == ["wait"]
    assert _verdict(catalog, ref, firm, "cn-hnte-recognition", dt.date(2022, 9, 1)) == "undetermined"
    assert _verdict(catalog, ref, firm, "cn-hnte-recognition", dt.date(2022, 8, 31)) == "ineligible"


def test_upper_bound_on_size_is_a_blocker_not_a_suggestion(catalog, ref) -> None:
    firm = {**BASE, "taxable_income": 3_000_001.0}
    takes = _explain(catalog, ref, firm, "cn-small-low-profit-cit")
    assert takes["achievable"] is False and takes["verified"] is False
    assert [(s["kind"], s["criterion"]) for s in takes["steps"]] == [("blocker", "taxable_income_limit")]


def test_industry_is_never_a_suggested_change(catalog, ref) -> None:
    firm = {**BASE, "industry_code": "H6210"}      # catering: on the super-deduction negative list
    takes = _explain(catalog, ref, firm, "cn-rd-super-deduction")
    assert takes["achievable"] is False
    assert all(s["kind"] != "raise" and s.get("field") != "industry_code" or s["kind"] == "blocker"
               for s in takes["steps"])


def test_unknown_fact_is_asked_for(catalog, ref) -> None:
    firm = {**BASE, "employees": None}
    takes = _explain(catalog, ref, firm, "cn-small-low-profit-cit")
    assert [(s["kind"], s["field"]) for s in takes["steps"]] == [("supply", "employees")]
    assert takes["verdict_after"] == "undetermined" and takes["verified"]


def test_title_to_obtain_names_the_granting_policy(catalog, ref) -> None:
    takes = _explain(catalog, ref, BASE, "cn-little-giant")
    obtain = [s for s in takes["steps"] if s["kind"] == "obtain"]
    assert [(s["title"], s["via"]) for s in obtain] == [("srdi_sme", "cn-srdi-sme")]


def test_explain_adds_near_misses_pathways_and_questions(catalog, ref) -> None:
    firm = {**BASE, "revenue": 19_999_999.0, "employees": None}
    frame = profiles_to_frame([parse_profile(firm, ref=ref)])
    (res,) = match_frame(frame, catalog, AS_OF, ref, MatchOptions(explain=True))
    near = {n["policy_id"]: n for n in res["near_misses"]}
    assert near["cq-above-scale-upgrade"]["what_it_takes"]["verified"] is True
    top = res["pathways"][0]
    assert top["rank"] == 1 and top["unlocks"]
    assert any(p["change"] == "Raise operating revenue to ¥20,000,000 (+¥1)" for p in res["pathways"])
    assert "employees" in [q["field"] for q in res["next_questions"]]
    for m in res["matches"]:
        assert ("what_it_takes" in m) == (m["verdict"] != "eligible")


def test_no_explain_no_extra_keys(catalog, ref) -> None:
    frame = profiles_to_frame([parse_profile(BASE, ref=ref)])
    (res,) = match_frame(frame, catalog, AS_OF, ref, MatchOptions())
    assert not {"pathways", "near_misses", "next_questions"} & set(res)
    assert all("what_it_takes" not in m for m in res["matches"])
