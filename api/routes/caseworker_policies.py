"""The workspace's policy browser: search the catalog in Chinese or English, filter by family,
issuer level and whether in force, and read one policy's criteria in words, its dates and its
references. The same domain calls as ``GET /v1/policies`` (:func:`recommender.search_policies`,
:func:`~recommender.policy_summary`, :func:`~recommender.policy_detail`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import MatcherDep
from api.routes.caseworker_auth import SessionDep, page
from recommender import Family, PolicyQuery, policy_detail, policy_summary, search_policies

router = APIRouter(prefix="/caseworker", tags=["web"], include_in_schema=False)
LEVELS = {"national": "国家", "provincial": "省级", "municipal": "市级", "district": "区县"}
FAMILY_ZH = {"relief": "纾困减负", "specialized_sme": "专精特新梯度培育", "innovation": "科技创新",
             "digital": "数字化转型", "green": "绿色低碳", "trade": "外贸外资", "employment": "稳岗就业",
             "finance": "融资支持"}
FAMILIES: tuple[str, ...] = get_args(Family)


@router.get("/policies", response_class=HTMLResponse)
def policies_page(request: Request, session: SessionDep, matcher: MatcherDep,
                  q: Annotated[str, Query(max_length=200)] = "", family: str = "", level: str = "",
                  in_force: str = "") -> HTMLResponse:
    """Policies passing every filter, title matches first (words must all occur)."""
    today = dt.date.today()
    query = PolicyQuery(q=q.strip() or None, family=family if family in FAMILIES else None,
                        issuer_level=level if level in LEVELS else None,
                        in_force_on=today if in_force == "1" else None)
    hits = [policy_summary(p, today) for p in search_policies(matcher.catalog, query)]
    return page(request, "caseworker/policies.html", session, hits=hits, q=q, family=family, level=level,
                in_force=in_force, families=[(f, FAMILY_ZH.get(f, f)) for f in FAMILIES], levels=LEVELS,
                total=len(matcher.catalog), today=today.isoformat())


def _leaves(node: dict[str, Any], depth: int = 0) -> list[dict[str, Any]]:
    """The criteria tree flattened for display: each node with its depth."""
    out = [{**node, "depth": depth}]
    for kid in node.get("children", ()):
        out += _leaves(kid, depth + 1)
    return out


@router.get("/policies/{policy_id}", response_class=HTMLResponse)
def policy_page(request: Request, session: SessionDep, matcher: MatcherDep,
                policy_id: Annotated[str, Path(max_length=80)]) -> HTMLResponse:
    today = dt.date.today()
    detail = policy_detail(matcher.policy(policy_id), today, matcher.ref)
    return page(request, "caseworker/policy.html", session, p=detail, criteria=_leaves(detail["criteria"]),
                levels=LEVELS, families=FAMILY_ZH, today=today.isoformat())
