"""The firm profile of SPEC §2: the one place that declares the firm fields, units and bounds.

Money is yuan, ratios are fractions 0–1, counts are non-negative integers, dates ISO-8601.
A field that is absent or ``null`` is *unknown*, never zero. Unknown fields are an error
(``extra="forbid"``). Everything else (frame validation for bulk runs, feature columns, the
criteria language's field registry) reads its field list from :class:`FirmProfile`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import re
import sys

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationError, ValidationInfo,
                      field_validator)

from recommender.errors import FieldIssue, ProfileError
from recommender.profile.reference import ReferenceTables, load_reference
from recommender.profile.uscc import credit_code_problem

Certification = Literal[
    "hnte", "tech_sme", "innovative_sme", "srdi_sme", "little_giant", "single_champion",
    "above_scale", "smart_factory", "digital_workshop", "green_factory", "enterprise_tech_center",
]
CERTIFICATIONS: tuple[str, ...] = Certification.__args__  # type: ignore[attr-defined]  # Literal.__args__ is not in typing stubs
CERTIFICATION_LABELS: dict[str, tuple[str, str]] = {
    "hnte": ("high and new technology enterprise", "高新技术企业"),
    "tech_sme": ("tech-based SME", "科技型中小企业"),
    "innovative_sme": ("innovative SME", "创新型中小企业"),
    "srdi_sme": ("specialised, refined, distinctive and innovative SME", "专精特新中小企业"),
    "little_giant": ("\"little giant\" enterprise", "专精特新“小巨人”企业"),
    "single_champion": ("manufacturing single champion", "制造业单项冠军企业"),
    "above_scale": ("above-designated-size enterprise", "规模以上企业"),
    "smart_factory": ("smart factory", "智能工厂"),
    "digital_workshop": ("digital workshop", "数字化车间"),
    "green_factory": ("green factory", "绿色工厂"),
    "enterprise_tech_center": ("enterprise technology centre", "企业技术中心"),
}
"""(English, Chinese) name of each title a firm may hold."""
Ownership = Literal["state", "private", "foreign", "collective", "other"]
TaxCreditRating = Literal["A", "B", "M", "C", "D"]

EARLIEST_ESTABLISHED_ON = dt.date(1900, 1, 1)
"""No registered firm is older; also keeps dates inside the range pandas can represent."""

# Numeric field types. Strict: "12" is not a number, true is not 1 and 3.5 is not a count.
# Finite: NaN, Infinity and 1e400 (which JSON readers turn into infinity) are refused by name.
Yuan = Annotated[float, Field(ge=0, strict=True, allow_inf_nan=False)]
SignedYuan = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, le=1, strict=True, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, strict=True), AfterValidator(lambda n: _finite_count(n))]
Years = Annotated[float, Field(ge=0, strict=True, allow_inf_nan=False)]

_LARGEST_COUNT = int(sys.float_info.max)


def _finite_count(value: int) -> int:
    """Counts are computed as floats: an integer past the largest float (10**400) is refused
    with the message a float field gives for infinity."""
    if value > _LARGEST_COUNT:
        raise ValueError("Input should be a finite number")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    """A date is a ``YYYY-MM-DD`` string (or a ``date``): a number is not read as Unix time."""
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        return value.strip()
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise ValueError("must be an ISO-8601 date string, YYYY-MM-DD")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
"""A calendar date given as ISO-8601 text; the JSON schema stays ``string``, format ``date``."""


class FirmProfile(BaseModel):
    """One firm, as SPEC §2 defines it. Absent or ``null`` means unknown."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True,
                              json_schema_extra={"examples": [{
                                  "firm_id": "F1", "region_code": "500112",
                                  "industry_code": "C3670", "employees": 120,
                                  "revenue": 45_000_000.0, "total_assets": 30_000_000.0,
                                  "rd_expense": 2_100_000.0, "certifications": ["tech_sme"]}]})

    firm_id: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$",
                         description="caller's identifier, 1–64 printable characters")
    name: str | None = Field(None, max_length=200, description="registered name")
    credit_code: str | None = Field(None, description="18-char Unified Social Credit Code (GB 32100-2015)")
    region_code: str = Field(description="6-digit administrative division code (GB/T 2260)")
    industry_code: str = Field(description="GB/T 4754-2017 code, e.g. C3670, 3670, C36, 36")
    established_on: IsoDate | None = Field(None, description="registration date, ISO-8601")
    ownership: Ownership | None = None
    listed: StrictBool | None = Field(None, description="shares listed on an exchange")
    employees: Count | None = Field(None, description="average employees last fiscal year")
    revenue: Yuan | None = Field(None, description="operating revenue (营业收入) last fiscal year, yuan")
    revenue_prev: Yuan | None = Field(None, description="operating revenue the year before, yuan")
    total_assets: Yuan | None = Field(None, description="total assets at last year-end, yuan")
    taxable_income: SignedYuan | None = Field(None, description="annual taxable income (应纳税所得额), yuan")
    rd_expense: Yuan | None = Field(None, description="R&D expense last fiscal year, yuan")
    rd_expense_3y: Yuan | None = Field(None, description="R&D expense, sum of last 3 fiscal years, yuan")
    revenue_3y: Yuan | None = Field(None, description="operating revenue, sum of last 3 fiscal years, yuan")
    rd_domestic_share: Share | None = Field(None, description="share of R&D expense incurred in China")
    rd_staff: Count | None = Field(None, description="R&D staff")
    tech_staff: Count | None = Field(None, description="science and technology staff (科技人员)")
    high_tech_revenue_share: Share | None = Field(None, description="share of revenue from high-tech products/services")
    main_business_share: Share | None = Field(None, description="main business revenue / operating revenue")
    years_in_niche: Years | None = Field(None, description="years in its niche market (细分市场)")
    invention_patents: Count | None = Field(None, description="granted invention patents held")
    class1_ip: Count | None = Field(None, description="Class I IP held")
    class2_ip: Count | None = Field(None, description="Class II IP held")
    equity_financing_2y: Yuan | None = Field(None, description="new equity financing in the last 2 years, yuan")
    certifications: list[Certification] | None = Field(None, description="titles held")
    tax_credit_rating: TaxCreditRating | None = None
    dishonest_record: StrictBool | None = Field(None, description="on a dishonesty / serious-violation list")
    major_incident_last_year: StrictBool | None = Field(None, description="serious safety, quality or environmental incident in the past year")
    export_share: Share | None = Field(None, description="export revenue / operating revenue")
    ui_premium_paid: Yuan | None = Field(None, description="unemployment-insurance premiums paid last year, yuan")
    insured_employees: Count | None = Field(None, description="employees with social insurance")
    layoff_rate: Share | None = Field(None, description="share of insured employees laid off last year")
    graduates_hired: Count | None = Field(None, description="graduates hired this year with social insurance")
    vat_credit_balance: Yuan | None = Field(None, description="VAT input credit carried forward (留抵税额), yuan")
    leases_state_property: StrictBool | None = Field(None, description="rents premises owned by a state entity")
    business_scope: str | None = Field(None, max_length=4000, description="registered business scope (经营范围)")

    @field_validator("credit_code")
    @classmethod
    def _check_credit_code(cls, value: str | None) -> str | None:
        if value is not None and (problem := credit_code_problem(value)):
            raise ValueError(problem)
        return value

    @field_validator("industry_code")
    @classmethod
    def _check_industry(cls, value: str, info: ValidationInfo) -> str:
        canonical, problem = _ref(info).normalise_industry(value)
        if problem:
            raise ValueError(problem)
        return canonical  # type: ignore[return-value]  # normalise_industry returns a code when it returns no problem

    @field_validator("region_code")
    @classmethod
    def _check_region(cls, value: str, info: ValidationInfo) -> str:
        if problem := _ref(info).region_problem(value):
            raise ValueError(problem)
        return value

    @field_validator("established_on")
    @classmethod
    def _not_in_future(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and value > dt.date.today():
            raise ValueError(f"{value.isoformat()} is in the future")
        if value is not None and value < EARLIEST_ESTABLISHED_ON:
            raise ValueError(f"{value.isoformat()} is before {EARLIEST_ESTABLISHED_ON.isoformat()}")
        return value

    @field_validator("certifications")
    @classmethod
    def _unique_certs(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("lists a certification more than once")
        return value


def _ref(info: ValidationInfo) -> ReferenceTables:
    """Reference tables passed as validation context, else the bundled ones."""
    ref = (info.context or {}).get("ref")
    return ref if isinstance(ref, ReferenceTables) else load_reference()


PROFILE_FIELDS: tuple[str, ...] = tuple(FirmProfile.model_fields)


def _issues(err: ValidationError) -> list[FieldIssue]:
    out = []
    for e in err.errors(include_url=False):
        loc = ".".join(str(p) for p in e["loc"]) or "(profile)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown field (not in SPEC §2)"
        elif e["type"] == "missing":
            msg = "required field is missing"
        out.append(FieldIssue(loc, msg))
    return out


def parse_profile(data: Any, *, record: str | None = None,
                  ref: ReferenceTables | None = None) -> FirmProfile:
    """Validate one profile (a mapping, e.g. from ``json.loads``).

    Raises
    ------
    ProfileError
        naming every invalid field and why; ``record`` (e.g. ``"line 3"``) prefixes the message.
    """
    if not isinstance(data, dict):
        raise ProfileError([FieldIssue("(profile)", f"must be a JSON object, got {type(data).__name__}")],
                           record=record)
    try:
        return FirmProfile.model_validate(data, context={"ref": ref} if ref else None)
    except ValidationError as err:
        raise ProfileError(_issues(err), record=record) from None


def profile_issues(err: ValidationError) -> list[FieldIssue]:
    """Public view of a pydantic error as field issues (used by the API's error handler)."""
    return _issues(err)
