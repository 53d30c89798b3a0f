"""GET /v1/policies and /v1/policies/{policy_id}: browse and search the catalog."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from api.deps import MatcherDep, PublicDep
from api.openapi import errors
from api.routes.params import AsOfQuery, as_of_or_today
from api.schemas import PolicyDetail, PolicyPage
from recommender import Family, PolicyQuery, policy_detail, policy_summary, search_policies

router = APIRouter(prefix="/v1/policies", tags=["policies"], responses=errors(401, 403, 422))

BenefitKind = Literal["tax_saving", "refund", "cash_award", "subsidy", "deferral", "loan", "fee_waiver",
                      "recognition", "service"]


@router.get("", response_model=PolicyPage, summary="Browse and search the catalog")
def list_policies(
    caller: PublicDep,
    matcher: MatcherDep,
    q: Annotated[str | None, Query(max_length=200, description="words that must all occur (Chinese or "
                                   "English; substring match over titles, descriptions, criteria, "
                                   "references)", examples=["研发 费用"])] = None,
    family: Family | None = None,
    issuer_level: Literal["national", "provincial", "municipal", "district"] | None = None,
    benefit_kind: BenefitKind | None = None,
    region_code: Annotated[str | None, Query(pattern=r"^\d{6}$", description="only policies that apply "
                                             "to a firm registered here")] = None,
    in_force_on: Annotated[dt.date | None, Query(description="only policies in force on this date")] = None,
    as_of: AsOfQuery = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    """Policies passing every filter, title matches first; ``in_force`` is as of ``as_of``."""
    query = PolicyQuery(q=q, family=family, issuer_level=issuer_level, benefit_kind=benefit_kind,
                        region_code=region_code, in_force_on=in_force_on)
    hits = search_policies(matcher.catalog, query)
    day = as_of_or_today(as_of)
    start = (page - 1) * per_page
    return {"catalog_version": matcher.catalog_version, "total": len(hits), "page": page,
            "per_page": per_page, "items": [policy_summary(p, day) for p in hits[start:start + per_page]]}


@router.get("/{policy_id}", response_model=PolicyDetail, responses=errors(404),
            summary="One policy with its criteria in words and its references")
def get_policy(caller: PublicDep, matcher: MatcherDep,
               policy_id: Annotated[str, Path(max_length=80, examples=["cn-tech-sme-evaluation"])],
               as_of: AsOfQuery = None) -> Any:
    """Description, references with clauses, benefit and formula, uncertainties, and the
    criteria tree with each requirement in words (thresholds as of ``as_of``)."""
    return policy_detail(matcher.policy(policy_id), as_of_or_today(as_of), matcher.ref)
