"""Fairness of a finished job's matches (issue 22): the report of ``recommender fairness``
over the job's result and the registry it was uploaded with, computed on the first request
and kept in the job's directory. Same access as the job's other results: its caseworker or
an admin; 404 for a job the caller cannot see, 409 until it has succeeded."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from api.deps import CaseworkerDep, MatcherDep, StoreDep
from api.errors import ApiError
from api.openapi import errors
from api.routes.jobs import JobId, audit_download, finished_job

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=errors(401, 403, 422, 503))
FAIRNESS_DIR = "fairness"


@router.get("/{job_id}/fairness", response_class=FileResponse, responses={**errors(404, 409), 200: {
            "content": {"application/json": {}, "text/html": {}},
            "description": "fairness.json (shape in docs/api.md), or with format=html the report page"}},
            summary="Fairness of the job's matches by district, size class, ownership and industry")
def job_fairness(caller: CaseworkerDep, store: StoreDep, matcher: MatcherDep, job_id: JobId,
                 format_: Annotated[Literal["json", "html"], Query(alias="format", description="json (default) or "
                                                                    "html: the self-contained report")] = "json",
                 ) -> FileResponse:
    """By group: what the rules decide (share with an eligible policy, mean number), what the
    ranking adds (an eligible policy first, among firms with one), the top-ranked policy and
    mean estimated benefit (yuan), each with a 95 % bootstrap interval and its difference and
    ratio to the overall figure; groups under 30 firms suppressed."""
    job = finished_job(store, job_id, caller)
    if not job.firms_matched:
        raise ApiError(409, f"job {job_id} matched no firm (every row was rejected): nothing to report on",
                       [("job_id", "no matched firm")])
    from recommender import cached_fairness     # here, not at import: fairlearn, scipy and scikit-learn would
    #                                             add ~100 MiB to every worker that never reports on fairness
    report, page = cached_fairness(job.output_path.parent / FAIRNESS_DIR, job.output_path, job.input_path,
                                   matcher.ref)
    audit_download(store, caller, job, "job_fairness")
    if format_ == "html":
        return FileResponse(page, media_type="text/html; charset=utf-8")
    return FileResponse(report, media_type="application/json")
