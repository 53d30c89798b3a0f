"""POST /v1/screen: a caseworker screens many applicants against one policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.bodies import media_type, profiles_body, read_applicants, too_many
from api.deps import CaseworkerDep, MatcherDep, SettingsDep, StoreDep
from api.errors import ApiError
from api.openapi import EXAMPLE_PROFILE, errors, json_body
from api.routes.params import AsOfQuery, OutputFormat, PolicyQueryDep, as_of_or_today
from api.schemas import ScreeningResponse
from api.tables import XLSX_TYPE, handoff_response
from api.security import Principal
from recommender import Cover, Matcher, Policy, Store, profiles_to_frame

router = APIRouter(prefix="/v1/screen", tags=["screening"],
                   responses=errors(401, 403, 404, 413, 415, 422, 503))

_UPLOAD_DOC = {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "CSV or XLSX, one applicant per row, SPEC §2 columns "
                                           "(certifications as ;-separated text)"}}}}}


VERDICT_NAMES = ("eligible", "undetermined", "ineligible")


@dataclass(frozen=True)
class Applicants:
    """Typed profile frame of the applicants, and upload rows that could not be read."""

    frame: pd.DataFrame
    rejects: list[dict[str, Any]]


def applicants_from_upload(upload: UploadFile, matcher: Matcher, limit: int) -> Applicants:
    """A CSV/XLSX upload as applicants (at most ``limit`` rows; 413 beyond); blocking: call it
    in a worker thread."""
    valid, rejects = read_applicants(upload, matcher.ref)
    count = len(valid) + (int(rejects["row"].nunique()) if len(rejects) else 0)
    if count > limit:
        raise too_many(count, limit, "applicants")
    records = [{"row": int(r.row), "firm_id": r.firm_id if isinstance(r.firm_id, str) else None,
                "field": str(r.field), "reason": str(r.reason)} for r in rejects.itertuples()]
    return Applicants(valid.drop(columns="_row"), records)


def screen_applicants(caller: Principal, policy: Policy, applicants: Applicants, matcher: Matcher,
                      store: Store, day: dt.date, *, outreach: bool = False) -> list[dict[str, Any]]:
    """Screening rows (``outreach``: only eligible and undetermined firms, the find-firms
    list), audited under the caller's key id."""
    keep = ("eligible", "undetermined") if outreach else VERDICT_NAMES
    rows = matcher.screen(policy, applicants.frame, day, keep=keep)
    store.audit(key_id=caller.key_id, role=str(caller.role), action="find_firms" if outreach else "screen",
                policy_id=policy.id, n_firms=len(applicants.frame) + len({r["row"] for r in applicants.rejects}),
                catalog_version=matcher.catalog_version, model_version=matcher.model_version)
    return rows


async def _applicants(request: Request, matcher: MatcherDep, settings: SettingsDep) -> Applicants:
    limit = settings.max_screen_applicants
    kind = media_type(request)
    if kind == "multipart/form-data":
        async with request.form(max_files=1, max_fields=4) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ApiError(422, "no file uploaded", [("body.file", "required (CSV or XLSX)")])
            return await run_in_threadpool(applicants_from_upload, upload, matcher, limit)
    if kind in ("application/json", "") or kind.endswith("+json"):
        profiles = await profiles_body(request, matcher.ref, limit)
        return Applicants(profiles_to_frame(profiles), [])
    raise ApiError(415, f"unsupported content type {kind!r}; send a JSON list of profiles or a "
                   "multipart upload of a CSV/XLSX file", [("header.Content-Type", kind)])


ApplicantsBody = Annotated[Applicants, Depends(_applicants)]


@router.post("", response_model=ScreeningResponse, summary="Screen applicants against one policy",
             responses={200: {"content": {"text/csv": {}, XLSX_TYPE: {}},
                              "description": "JSON, or a CSV/XLSX file with format=csv|xlsx"}},
             openapi_extra=json_body("FirmProfile", array=True, max_items=1000, example=[EXAMPLE_PROFILE],
                                     extra_content=_UPLOAD_DOC))
def screen(caller: CaseworkerDep, policy: PolicyQueryDep, applicants: ApplicantsBody,
           matcher: MatcherDep, store: StoreDep, as_of: AsOfQuery = None,
           fmt: Annotated[OutputFormat, Query(alias="format", description="json, or a spreadsheet file")] = "json",
           ) -> Any:
    """Each applicant's verdict, failed and unknown criteria, missing fields, score and
    estimated benefit; eligible first, then by score. Upload rows that fail validation are
    listed under ``rejects`` (row number, field, reason) and do not stop the others."""
    day = as_of_or_today(as_of)
    rows = screen_applicants(caller, policy, applicants, matcher, store, day)
    if fmt != "json":
        cover = Cover("screen", policy, day, matcher.catalog_version, matcher.model_version)
        return handoff_response(fmt, rows, applicants.rejects, cover)
    counts = {v: 0 for v in ("eligible", "undetermined", "ineligible")}
    for r in rows:
        counts[r["verdict"]] += 1
    counts["rejected"] = len({r["row"] for r in applicants.rejects})
    return {"policy_id": policy.id, "as_of": day, "catalog_version": matcher.catalog_version,
            "model_version": matcher.model_version, "counts": counts, "results": rows,
            "rejects": applicants.rejects}
