"""Bulk jobs: upload a registry, follow its progress, download results and rejects.

A job belongs to the key that created it: another caseworker gets 404 for it, as for a job
that does not exist; an admin sees every job.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from starlette.datastructures import UploadFile as Upload

from api.bodies import save_upload, upload_suffix
from api.deps import CaseworkerDep, JobsDep, MatcherDep, StoreDep
from api.errors import ApiError
from api.jobs import REJECTS_NAME, RESULT_NAME, JobRunner
from api.openapi import errors
from api.routes.params import AsOfQuery, as_of_or_today
from api.schemas import JobPage, JobView
from api.security import Principal
from recommender import JobRecord, Matcher, Store

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=errors(401, 403, 422, 503))

REGISTRY_TYPES = {".csv": "text/csv", ".parquet": "application/vnd.apache.parquet",
                  ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
JobId = Annotated[str, Path(max_length=36, description="the id returned by POST /v1/jobs")]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def job_view(job: JobRecord) -> dict[str, Any]:
    return {
        "id": job.id, "state": job.state, "created_at": job.created_at, "started_at": job.started_at,
        "finished_at": job.finished_at, "input_name": job.input_name, "as_of": job.as_of,
        "top_k": job.top_k, "rows_done": job.rows_done, "chunks_done": job.chunks_done,
        "rows_read": job.rows_read, "firms_matched": job.firms_matched,
        "rows_rejected": job.rows_rejected, "error": job.error,
        "catalog_version": job.catalog_version, "model_version": job.model_version,
        "result_url": f"/v1/jobs/{job.id}/result", "rejects_url": f"/v1/jobs/{job.id}/rejects",
    }


def _sees_every_job(caller: Principal) -> bool:
    return caller.may("admin")


def visible_job(store: Store, job_id: str, caller: Principal) -> JobRecord:
    """The job, if ``caller`` may see it (404 otherwise, whether or not it exists)."""
    job = store.get_job(job_id)
    if job is None or (job.key_id != caller.key_id and not _sees_every_job(caller)):
        raise ApiError(404, f"no job {job_id!r}", [("job_id", "unknown job")])
    return job


def finished_job(store: Store, job_id: str, caller: Principal) -> JobRecord:
    job = visible_job(store, job_id, caller)
    if job.state != "succeeded":
        raise ApiError(409, f"job {job_id} is {job.state}; results exist once it has succeeded",
                       [("job_id", f"state {job.state}")])
    return job


def refuse_control_characters(file: Upload) -> None:
    """422 for an upload whose name holds a control character (PostgreSQL cannot store a NUL;
    no name needs one): every job's upload (matches, reforms) is named in the store."""
    if _CONTROL.search(file.filename or ""):
        raise ApiError(422, "the uploaded file's name contains a control character",
                       [("file", "file name contains a control character (NUL, tab, escape, ...)")])


def submit_job(caller: Principal, matcher: Matcher, store: Store, jobs: JobRunner, file: Upload,
               as_of: dt.date, top_k: int) -> JobRecord:
    """Store an uploaded registry under a new job, queue the job and audit it (415 for a file
    type other than CSV, Parquet or XLSX; 422 for an empty file or a control character in its
    name)."""
    refuse_control_characters(file)
    suffix = upload_suffix(file, REGISTRY_TYPES)
    job_id = str(uuid.uuid4())
    folder = jobs.job_dir(job_id)
    try:
        if save_upload(file, folder / f"input{suffix}") == 0:
            raise ApiError(422, "the uploaded file is empty", [("file", "empty file")])
        job = store.create_job(job_id=job_id, key_id=caller.key_id, input_name=file.filename or "",
                               input_path=folder / f"input{suffix}", output_path=folder / RESULT_NAME,
                               rejects_path=folder / REJECTS_NAME, as_of=as_of, top_k=top_k)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)        # no job: no files left behind
        raise
    store.audit(key_id=caller.key_id, role=str(caller.role), action="job", job_id=job.id, n_firms=0,
                catalog_version=matcher.catalog_version, model_version=matcher.model_version)
    jobs.submit(job.id)
    return job


@router.post("", status_code=202, response_model=JobView, responses=errors(413, 415),
             summary="Upload a registry and start a bulk match")
def create_job(caller: CaseworkerDep, matcher: MatcherDep, store: StoreDep, jobs: JobsDep,
               file: Annotated[UploadFile, File(description="registry: CSV, Parquet or XLSX (SPEC §2 columns)")],
               as_of: AsOfQuery = None,
               top_k: Annotated[int, Query(ge=1, le=100, description="policies per firm")] = 10) -> Any:
    """Stores the upload and queues the run; poll GET /v1/jobs/{id}. Every input row ends in
    the result (one row per match; a firm without a match gets one row with an empty
    ``policy_id``) or in the rejects, with row number, firm_id, field and reason."""
    job = submit_job(caller, matcher, store, jobs, file, as_of_or_today(as_of), top_k)
    return JSONResponse(JobView(**job_view(job)).model_dump(mode="json"), status_code=202,
                        headers={"Location": f"/v1/jobs/{job.id}"})


@router.get("", response_model=JobPage, summary="The caller's jobs, newest first")
def list_jobs(caller: CaseworkerDep, store: StoreDep,
              limit: Annotated[int, Query(ge=1, le=100, description="jobs per page")] = 20,
              offset: Annotated[int, Query(ge=0, le=1_000_000, description="jobs to skip")] = 0) -> Any:
    """The jobs created with the caller's key (an admin's key: every job), newest first;
    ``next`` is the next page's URL, null on the last page."""
    jobs, total = store.list_jobs(key_id=None if _sees_every_job(caller) else caller.key_id,
                                  limit=limit, offset=offset)
    more = offset + len(jobs) < total
    return {"items": [job_view(j) for j in jobs], "total": total, "limit": limit, "offset": offset,
            "next": f"/v1/jobs?limit={limit}&offset={offset + limit}" if more else None}


@router.get("/{job_id}", response_model=JobView, responses=errors(404), summary="A job's state and counts")
def get_job(caller: CaseworkerDep, store: StoreDep, job_id: JobId) -> Any:
    return job_view(visible_job(store, job_id, caller))


def audit_download(store: Store, caller: Principal, job: JobRecord, action: str) -> None:
    store.audit(key_id=caller.key_id, role=str(caller.role), action=action, job_id=job.id,
                n_firms=job.firms_matched or 0, catalog_version=job.catalog_version or "",
                model_version=job.model_version or "")


@router.get("/{job_id}/result", responses={**errors(404, 409), 200: {"content": {"text/csv": {}},
            "description": "CSV: firm_id, name, credit_code, district, rank, policy_id, verdict, score, "
                           "approval_probability, estimated_benefit, expected_value"}},
            response_class=FileResponse, summary="The job's matches (CSV)")
def job_result(caller: CaseworkerDep, store: StoreDep, job_id: JobId) -> FileResponse:
    job = finished_job(store, job_id, caller)
    audit_download(store, caller, job, "job_result")
    return FileResponse(job.output_path, media_type="text/csv", filename=f"{job.id}-result.csv")


@router.get("/{job_id}/rejects", responses={**errors(404, 409), 200: {"content": {"text/csv": {}},
            "description": "CSV: row, firm_id, field, reason"}},
            response_class=FileResponse, summary="The job's rejected rows (CSV)")
def job_rejects(caller: CaseworkerDep, store: StoreDep, job_id: JobId) -> FileResponse:
    job = finished_job(store, job_id, caller)
    audit_download(store, caller, job, "job_rejects")
    return FileResponse(job.rejects_path, media_type="text/csv", filename=f"{job.id}-rejects.csv")


