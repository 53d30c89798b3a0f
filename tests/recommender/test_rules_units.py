"""Unit tests of the rules on their own: each criterion kind at, below and above its bound and
with unknown inputs, over a frame and for one firm; Kleene composites; every benefit formula
form, its one-row twin and its parse errors."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest

from recommender import tristate as ts
from recommender.errors import CatalogError
from recommender.facts import EvalFrame, RowFrame
from recommender.profile import parse_profile, profiles_to_frame
from recommender.rules.benefit import parse_formula
from recommender.rules.composites import AllOf, AnyOf, Not
from recommender.rules.criteria import AsOfWindow, Compare, Declaration, Holds, Membership, Tier, Tiered
from recommender.rules.node import Criterion
from recommender.rules.thresholds import Threshold

AS_OF = dt.date(2022, 6, 30)
BASE: dict[str, Any] = {"firm_id": "F", "region_code": "500112", "industry_code": "C3670"}
MET, UNKNOWN, NOT_MET = ts.MET, ts.UNKNOWN, ts.NOT_MET
_IDS = iter(range(10**6))


def _frames(ref, **fields: Any) -> tuple[EvalFrame, RowFrame]:  # type: ignore[no-untyped-def]
    profile = parse_profile({**BASE, **fields}, ref=ref)
    return EvalFrame.from_profiles(profiles_to_frame([profile]), AS_OF, ref), RowFrame(profile, AS_OF, ref)


def _outcome(node: Criterion, ref, **fields: Any) -> int:  # type: ignore[no-untyped-def]
    """The node's outcome for one firm, asserting that its array and one-firm rules agree."""
    frame, row = _frames(ref, **fields)
    array = int(node.evaluate(frame)[0])
    slots = {id(d): i for i, d in enumerate(node.dependencies())}
    codes = [int(d.evaluate(row)[0]) for d in node.dependencies()]
    scalar = node.one_firm(AS_OF, lambda d: slots[id(d)])(row, codes)
    assert array == scalar, (node, fields)
    return array


def _leaf(cls, **kw: Any):  # type: ignore[no-untyped-def]
    n = next(_IDS)
    return cls(id=f"n{n}", label_zh="标签", label_en="label", clause="第一条", path=f"p{n}", **kw)


@pytest.mark.parametrize(("op", "below", "at", "above"), [
    (">=", NOT_MET, MET, MET), (">", NOT_MET, NOT_MET, MET),
    ("<=", MET, MET, NOT_MET), ("<", MET, NOT_MET, NOT_MET),
    ("==", NOT_MET, MET, NOT_MET), ("!=", MET, NOT_MET, MET),
])
def test_compare_at_every_side_of_its_bound(ref, op: str, below: int, at: int, above: int) -> None:
    node = _leaf(Compare, field="employees", op=op, value=Threshold(constant=100.0))
    assert [_outcome(node, ref, employees=n) for n in (99, 100, 101)] == [below, at, above]
    assert _outcome(node, ref) == UNKNOWN                 # unknown is never met, even for !=


def test_compare_reads_the_value_in_force_on_the_date(ref) -> None:
    node = _leaf(Compare, field="employees", op="<=", value=Threshold(by_date=((dt.date(2023, 1, 1), 100.0),)))
    assert _outcome(node, ref, employees=10) == NOT_MET    # no value in force on AS_OF: the rule does not exist yet
    early = _leaf(Compare, field="employees", op="<=", value=Threshold(by_date=((dt.date(2020, 1, 1), 300.0),
                                                                              (dt.date(2022, 7, 1), 100.0))))
    assert [_outcome(early, ref, employees=n) for n in (300, 301)] == [MET, NOT_MET]


def test_compare_on_a_date_relative_to_as_of(ref) -> None:
    node = _leaf(Compare, field="established_on", op="<=", value=Threshold(years_before_as_of=1),
                 field_kind="date")
    assert [_outcome(node, ref, established_on=d) for d in ("2021-06-30", "2021-07-01")] == [MET, NOT_MET]
    assert _outcome(node, ref) == UNKNOWN


def test_membership_by_prefix_and_coarser_codes(ref) -> None:
    node = _leaf(Membership, field="industry_code", values=("C36",), prefix=True)
    assert _outcome(node, ref, industry_code="C3670") == MET
    assert _outcome(node, ref, industry_code="C3711") == NOT_MET
    finer = _leaf(Membership, field="industry_code", values=("C3670",), prefix=True)
    assert _outcome(finer, ref, industry_code="C36") == UNKNOWN      # C36 may or may not be C3670
    negated = _leaf(Membership, field="industry_code", values=("C36",), prefix=True, negate=True)
    assert _outcome(negated, ref, industry_code="C3670") == NOT_MET
    exact = _leaf(Membership, field="ownership", values=("private",))
    assert [_outcome(exact, ref, ownership=o) for o in ("private", "state")] == [MET, NOT_MET]
    assert _outcome(exact, ref) == UNKNOWN


def test_holds_a_title(ref) -> None:
    node = _leaf(Holds, cert="hnte")
    assert _outcome(node, ref, certifications=["hnte"]) == MET
    assert _outcome(node, ref, certifications=[]) == NOT_MET
    assert _outcome(node, ref) == UNKNOWN
    assert _outcome(_leaf(Holds, cert="hnte", negate=True), ref, certifications=[]) == MET


def test_tiered_threshold_by_band_and_with_the_band_unknown(ref) -> None:
    node = _leaf(Tiered, field="rd_intensity", op=">=", by="revenue",
                 tiers=(Tier(upto=50e6, below=None, value=0.05), Tier(upto=None, below=None, value=0.03)))
    assert _outcome(node, ref, revenue=50e6, rd_expense=2.5e6) == MET          # 5 % in the first band
    assert _outcome(node, ref, revenue=50e6, rd_expense=2.4e6) == NOT_MET
    assert _outcome(node, ref, revenue=60e6, rd_expense=1.8e6) == MET          # 3 % in the second
    assert _outcome(node, ref, rd_expense=1e6) == UNKNOWN                       # no revenue: no ratio
    no_band = _leaf(Tiered, field="rd_staff_ratio", op=">=", by="revenue",
                    tiers=(Tier(upto=50e6, below=None, value=0.1), Tier(upto=None, below=None, value=0.2)))
    assert _outcome(no_band, ref, employees=10, rd_staff=3) == MET             # passes every band
    assert _outcome(no_band, ref, employees=10, rd_staff=0) == NOT_MET         # fails every band
    assert _outcome(no_band, ref, employees=100, rd_staff=15) == UNKNOWN       # depends on the band


def test_declaration_and_date_window(ref) -> None:
    assert _outcome(_leaf(Declaration, assume=MET), ref) == MET
    assert _outcome(_leaf(Declaration, assume=UNKNOWN), ref) == UNKNOWN
    window = _leaf(AsOfWindow, start=dt.date(2022, 7, 1), end=None)
    assert _outcome(window, ref) == NOT_MET
    assert window.outcome_on(dt.date(2022, 7, 1)) == MET


def _const(code: int) -> Declaration:
    return _leaf(Declaration, assume=code)


@pytest.mark.parametrize("a", [NOT_MET, UNKNOWN, MET])
@pytest.mark.parametrize("b", [NOT_MET, UNKNOWN, MET])
def test_kleene_composites(ref, a: int, b: int) -> None:
    items = (_const(a), _const(b))
    assert _outcome(_leaf(AllOf, items=items), ref) == min(a, b)
    assert _outcome(_leaf(AnyOf, items=items), ref) == max(a, b)
    assert _outcome(_leaf(Not, item=items[0]), ref) == 2 - a
    assert _outcome(_leaf(AllOf, items=()), ref) == MET and _outcome(_leaf(AnyOf, items=()), ref) == NOT_MET


def _amount(formula: dict[str, Any] | float, ref, **fields: Any) -> float:  # type: ignore[no-untyped-def]
    """The formula's amount for one firm; its array and one-row forms must agree."""
    parsed = parse_formula(formula, "benefit.amount")
    frame, row = _frames(ref, **fields)
    array = float(parsed.evaluate(frame)[0])
    scalar = parsed.evaluate_row(row, 0)
    assert (math.isnan(array) and math.isnan(scalar)) or array == scalar, formula
    return array


@pytest.mark.parametrize(("formula", "fields", "expected"), [
    (1000, {}, 1000.0),
    ({"field": "rd_expense"}, {"rd_expense": 2e6}, 2e6),
    ({"mul": [{"field": "rd_expense"}, 0.25]}, {"rd_expense": 2e6}, 5e5),
    ({"add": [{"field": "rd_expense"}, {"field": "revenue"}]}, {"rd_expense": 1.0}, math.nan),   # unknown in, unknown out
    ({"sub": [{"field": "revenue"}, {"field": "rd_expense"}]}, {"revenue": 5.0, "rd_expense": 2.0}, 3.0),
    ({"div": [{"field": "rd_expense"}, {"field": "revenue"}]}, {"rd_expense": 1.0, "revenue": 0.0}, math.nan),
    ({"min": [{"field": "rd_expense"}, 500]}, {"rd_expense": 2e6}, 500.0),
    ({"max": [{"field": "rd_expense"}, 500]}, {}, math.nan),                  # fmax must not skip the unknown
    ({"where": {"field": "employees", "op": "<=", "value": 300}, "then": 1, "else": 2}, {"employees": 300}, 1.0),
    ({"where": {"field": "employees", "op": "<=", "value": 300}, "then": 1, "else": 2}, {"employees": 301}, 2.0),
    ({"where": {"field": "employees", "op": "<=", "value": 300}, "then": 1, "else": 2}, {}, math.nan),
    ({"where": {"field": "ownership", "in": ["private"]}, "then": 1, "else": 2}, {"ownership": "state"}, 2.0),
    ({"where": {"field": "ownership", "in": ["private"]}, "then": 1, "else": 2}, {}, math.nan),
    ({"by_date": [{"from": dt.date(2022, 1, 1), "value": 1}, {"from": dt.date(2022, 7, 1), "value": 2}]}, {}, 1.0),
    ({"by_date": [{"from": dt.date(2023, 1, 1), "value": 1}]}, {}, math.nan),
    ({"brackets": {"of": {"field": "taxable_income"}, "rates": [{"upto": 1e6, "rate": 0.025},
                                                                 {"rate": 0.05}]}},
     {"taxable_income": 3e6}, 1e6 * 0.025 + 2e6 * 0.05),
    ({"brackets": {"of": {"field": "taxable_income"}, "rates": [{"upto": 1e6, "rate": 0.025}, {"rate": 0.05}]}},
     {"taxable_income": 1e6}, 25_000.0),
])
def test_benefit_formulas(ref, formula: Any, fields: dict[str, Any], expected: float) -> None:
    got = _amount(formula, ref, **fields)
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected, rel=0, abs=1e-9)


@pytest.mark.parametrize(("formula", "path", "reason"), [
    (True, "benefit.amount", "a formula cannot be a bool"),
    ({"field": "name"}, "benefit.amount", "unknown or non-numeric field 'name'"),
    ({"sub": [1]}, "benefit.amount", "'sub' needs a list of two formulas"),
    ({"add": [1, {"pow": [2, 3]}]}, "benefit.amount.add[1]", "unknown formula operator 'pow'"),
    ({"where": {"field": "employees", "op": "~", "value": 1}, "then": 1, "else": 2}, "benefit.amount",
     "'where' is {field, op, value}"),
    ({"by_date": [{"from": "2022-01-01", "value": 1}]}, "benefit.amount", "by_date[0] is {from: DATE, value: F}"),
])
def test_bad_formulas_name_the_path(formula: Any, path: str, reason: str) -> None:
    with pytest.raises(CatalogError) as err:
        parse_formula(formula, "benefit.amount")
    assert (err.value.path, err.value.reason) == (path, reason)


def test_one_firm_and_frame_agree_on_a_batch(ref) -> None:
    """The array rule over several firms at once equals the one-firm rule of each."""
    node = _leaf(Compare, field="rd_intensity", op=">=", value=Threshold(constant=0.03))
    firms = [{"firm_id": f"F{i}", "revenue": 1e6, "rd_expense": e} for i, e in enumerate((2.9e4, 3e4, 3.1e4))]
    profiles = [parse_profile({**BASE, **f}, ref=ref) for f in firms]
    frame = EvalFrame.from_profiles(profiles_to_frame(profiles), AS_OF, ref)
    rule = node.one_firm(AS_OF, lambda d: 0)
    assert node.evaluate(frame).tolist() == [rule(RowFrame(p, AS_OF, ref), []) for p in profiles] == [0, 2, 2]
    assert np.isclose(node.margin(frame), [-1 / 30, 0, 1 / 30]).all()
