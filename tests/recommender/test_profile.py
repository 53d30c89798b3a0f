"""FirmProfile validation: every bad value names its field and the reason."""

from __future__ import annotations

import datetime as dt

import pytest

from recommender.errors import ProfileError
from recommender.profile.model import FirmProfile, parse_profile

BASE = {"firm_id": "F1", "region_code": "500112", "industry_code": "C3670"}


def issues(**changes: object) -> list[tuple[str, str]]:
    with pytest.raises(ProfileError) as info:
        parse_profile({**BASE, **changes})
    return [(i.field, i.reason) for i in info.value.issues]


@pytest.mark.parametrize(("raw", "canonical"), [
    ("C3670", "C3670"), ("3670", "C3670"), ("C36", "C36"), ("36", "C36"), ("c3670", "C3670"),
    ("C", "C"), ("I65", "I65"), ("7010", "K7010"),
])
def test_industry_code_is_normalised(raw: str, canonical: str) -> None:
    assert parse_profile({**BASE, "industry_code": raw}).industry_code == canonical


def test_minimal_profile_leaves_everything_else_unknown() -> None:
    p = parse_profile(BASE)
    assert p.revenue is None and p.certifications is None and p.established_on is None


def test_wrong_check_character() -> None:
    assert issues(credit_code="91500112MA5U7A2B10") == [
        ("credit_code", "check character is '0', expected 'N' (GB 32100-2015)")]


def test_unknown_industry_division() -> None:
    assert issues(industry_code="C99") == [
        ("industry_code", "'C99': division 99 does not exist in GB/T 4754-2017")]


def test_industry_section_mismatch() -> None:
    assert issues(industry_code="F36") == [
        ("industry_code", "'F36': division 36 belongs to section C, not F")]


def test_malformed_industry_code() -> None:
    assert issues(industry_code="C36X") == [
        ("industry_code", "'C36X' is not a GB/T 4754-2017 code (a section letter A–T and/or "
                          "2–4 digits, e.g. C3670, 3670, C36)")]


def test_unknown_region() -> None:
    assert issues(region_code="509999") == [
        ("region_code", "'509999' is not in the administrative division table (GB/T 2260)")]


def test_region_must_be_six_digits() -> None:
    assert issues(region_code="5001") == [
        ("region_code", "'5001' must be a 6-digit administrative division code (GB/T 2260)")]


def test_negative_revenue() -> None:
    assert issues(revenue=-1.0) == [("revenue", "Input should be greater than or equal to 0")]


def test_negative_taxable_income_is_a_loss_not_an_error() -> None:
    assert parse_profile({**BASE, "taxable_income": -50_000.0}).taxable_income == -50_000.0


@pytest.mark.parametrize("value", [0, 1, 0.5])
def test_share_bounds_inclusive(value: float) -> None:
    assert parse_profile({**BASE, "export_share": value}).export_share == value


def test_share_above_one() -> None:
    assert issues(main_business_share=1.01) == [
        ("main_business_share", "Input should be less than or equal to 1")]


def test_future_establishment_date() -> None:
    future = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert issues(established_on=future) == [("established_on", f"{future} is in the future")]


def test_establishment_before_1900() -> None:
    assert issues(established_on="1899-12-31") == [("established_on", "1899-12-31 is before 1900-01-01")]


def test_establishment_on_1900_is_accepted() -> None:
    assert parse_profile({**BASE, "established_on": "1900-01-01"}).established_on == dt.date(1900, 1, 1)


def test_unknown_field() -> None:
    assert issues(revenu=1.0) == [("revenu", "unknown field (not in SPEC §2)")]


@pytest.mark.parametrize(("field", "value"), [
    ("employees", "12"), ("employees", 12.5), ("revenue", "1000"), ("listed", "yes"),
])
def test_wrong_type(field: str, value: object) -> None:
    got = issues(**{field: value})
    assert [f for f, _ in got] == [field]


def test_unknown_enum_value() -> None:
    assert issues(ownership="public") == [
        ("ownership", "Input should be 'state', 'private', 'foreign', 'collective' or 'other'")]


def test_unknown_certification() -> None:
    assert [f for f, _ in issues(certifications=["hnte", "iso9001"])] == ["certifications.1"]


def test_missing_required_field() -> None:
    with pytest.raises(ProfileError) as info:
        parse_profile({"firm_id": "F1", "industry_code": "C36"})
    assert str(info.value) == "region_code: required field is missing"


def test_not_an_object() -> None:
    with pytest.raises(ProfileError, match=r"^line 3: \(profile\): must be a JSON object, got list$"):
        parse_profile([1, 2], record="line 3")


def test_all_spec_fields_declared() -> None:
    spec_fields = {
        "firm_id", "name", "credit_code", "region_code", "industry_code", "established_on",
        "ownership", "listed", "employees", "revenue", "revenue_prev", "total_assets",
        "taxable_income", "rd_expense", "rd_expense_3y", "revenue_3y", "rd_domestic_share",
        "rd_staff", "tech_staff", "high_tech_revenue_share", "main_business_share",
        "years_in_niche", "invention_patents", "class1_ip", "class2_ip", "equity_financing_2y",
        "certifications", "tax_credit_rating", "dishonest_record", "major_incident_last_year",
        "export_share", "ui_premium_paid", "insured_employees", "layoff_rate", "graduates_hired",
        "vat_credit_balance", "leases_state_property", "business_scope"}
    assert set(FirmProfile.model_fields) == spec_fields
