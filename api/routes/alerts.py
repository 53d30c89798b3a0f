"""GET /v1/alerts: the caseworker's outreach list of subscribed firms (免申即享).

For a policy (typically one just published), the subscribed firms interested in it that
qualify on the date — eligible, or undetermined with the fields to supply — as JSON, or as
the same CSV/XLSX hand-on file a screening downloads (cover sheet, Chinese and English
headers, every cell guarded against formula injection). Audited (``alerts_outreach``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import CaseworkerDep, MatcherDep, StoreDep
from api.routes.params import AsOfQuery, OutputFormat, PolicyQueryDep, as_of_or_today
from api.openapi import errors
from api.schemas import ScreeningResponse
from api.tables import XLSX_TYPE, handoff_response
from recommender import Cover, outreach

router = APIRouter(prefix="/v1/alerts", tags=["subscriptions"], responses=errors(401, 403, 404, 422, 503))


@router.get("", response_model=ScreeningResponse, summary="Subscribed firms that qualify for a policy",
            responses={200: {"content": {"text/csv": {}, XLSX_TYPE: {}},
                             "description": "JSON, or a CSV/XLSX file with format=csv|xlsx"}})
def subscribed_firms(caller: CaseworkerDep, policy: PolicyQueryDep, matcher: MatcherDep, store: StoreDep,
                     as_of: AsOfQuery = None,
                     fmt: Annotated[OutputFormat, Query(alias="format", description="json, or a spreadsheet file")] = "json",
                     ) -> Any:
    """Eligible firms first, then undetermined ones (with what they must supply)."""
    day = as_of_or_today(as_of)
    rows = outreach(store, matcher, policy, day)
    store.audit(key_id=caller.key_id, role=str(caller.role), action="alerts_outreach", policy_id=policy.id,
                n_firms=len(rows), catalog_version=matcher.catalog_version, model_version=matcher.model_version)
    if fmt != "json":
        return handoff_response(fmt, rows, [], Cover("find-firms", policy, day, matcher.catalog_version,
                                                     matcher.model_version))
    counts = {"eligible": sum(r["verdict"] == "eligible" for r in rows),
              "undetermined": sum(r["verdict"] == "undetermined" for r in rows), "ineligible": 0, "rejected": 0}
    return {"policy_id": policy.id, "as_of": day, "catalog_version": matcher.catalog_version,
            "model_version": matcher.model_version, "counts": counts, "results": rows, "rejects": []}
