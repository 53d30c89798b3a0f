"""Application outcomes (SPEC §7 rows): recorded as feedback for the next training run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.bodies import outcomes_body
from api.deps import CaseworkerDep, MatcherDep, StoreDep
from api.errors import ApiError
from api.openapi import errors, json_body
from api.schemas import OutcomesRecorded
from api.security import Principal
from recommender import Matcher, OutcomeRecord, Store

router = APIRouter(prefix="/v1/outcomes", tags=["outcomes"], responses=errors(401, 403, 422, 503))
MAX_OUTCOMES = 10_000
_EXAMPLE = [{"firm_id": "CQ-001", "policy_id": "cn-tech-sme-evaluation", "event_date": "2022-05-20",
             "outcome": "approved", "model_version": "ltr-e5e9b3aa7006", "rank": 2}]


async def _outcomes(request: Request, matcher: MatcherDep) -> list[OutcomeRecord]:
    records = await outcomes_body(request, MAX_OUTCOMES)
    known = set(matcher.catalog.ids)
    bad = [(f"body.{i}.policy_id", f"unknown policy {r.policy_id!r}")
           for i, r in enumerate(records) if r.policy_id not in known]
    if bad:
        raise ApiError(422, "outcomes name policies that are not in the catalog", bad[:50])
    return records


def record(caller: Principal, records: list[OutcomeRecord], store: Store, matcher: Matcher) -> tuple[int, int]:
    """Store outcomes under the caller's key id and audit it: ``(recorded, duplicates)``."""
    recorded, duplicates = store.add_outcomes(records, key_id=caller.key_id)
    store.audit(key_id=caller.key_id, role=str(caller.role), action="outcomes_import",
                n_firms=len({r.firm_id for r in records}), catalog_version=matcher.catalog_version,
                model_version=matcher.model_version)
    return recorded, duplicates


@router.post("", response_model=OutcomesRecorded, responses=errors(413, 415),
             openapi_extra=json_body("OutcomeRecord", array=True, example=_EXAMPLE),
             summary="Record application outcomes")
def record_outcomes(caller: CaseworkerDep, records: Annotated[list[OutcomeRecord], Depends(_outcomes)],
                    store: StoreDep, matcher: MatcherDep) -> Any:
    """A JSON list of ``{firm_id, policy_id, event_date, outcome}`` (outcome: approved,
    rejected or applied; at most 10,000 rows), each optionally with the ``model_version``
    and ``rank`` of the match response that showed the policy (as the caller got them; for
    later position-bias correction). A row for an application already stored (same firm,
    policy, date and outcome) is counted under ``duplicates`` and not stored twice."""
    recorded, duplicates = record(caller, records, store, matcher)
    return {"recorded": recorded, "duplicates": duplicates}


@router.get("/export", response_class=Response, summary="All outcomes as an interactions CSV",
            responses={200: {"content": {"text/csv": {}},
                             "description": "firm_id,policy_id,event_date,outcome,model_version,rank "
                                            "(recommender train --interactions)"}})
def export_outcomes(caller: CaseworkerDep, store: StoreDep, matcher: MatcherDep,
                    policy_id: Annotated[str | None, Query(max_length=80)] = None) -> Response:
    body = store.export_outcomes_csv(policy_id=policy_id)
    store.audit(key_id=caller.key_id, role=str(caller.role), action="outcomes_export", policy_id=policy_id,
                n_firms=0, catalog_version=matcher.catalog_version, model_version=matcher.model_version)
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="interactions.csv"'})
