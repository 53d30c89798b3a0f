"""Bulk jobs: upload a registry, follow its progress, download results and rejects."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from api.bodies import save_upload, upload_suffix
from api.deps import CaseworkerDep, JobsDep, MatcherDep, StoreDep
from api.errors import ApiError
from api.jobs import REJECTS_NAME, RESULT_NAME
from api.openapi import errors
from api.routes.params import AsOfQuery, as_of_or_today
from api.schemas import JobView
from recommender.store import JobRecord, Store

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=errors(401, 403, 422))

REGISTRY_TYPES = {".csv": "text/csv", ".parquet": "application/vnd.apache.parquet",
                  ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
JobId = Annotated[str, Path(max_length=36, description="the id returned by POST /v1/jobs")]


def _view(job: JobRecord) -> dict[str, Any]:
    return {
        "id": job.id, "state": job.state, "created_at": job.created_at, "started_at": job.started_at,
        "finished_at": job.finished_at, "input_name": job.input_name, "as_of": job.as_of,
        "top_k": job.top_k, "rows_done": job.rows_done, "chunks_done": job.chunks_done,
        "rows_read": job.rows_read, "firms_matched": job.firms_matched,
        "rows_rejected": job.rows_rejected, "error": job.error,
        "catalog_version": job.catalog_version, "model_version": job.model_version,
        "result_url": f"/v1/jobs/{job.id}/result", "rejects_url": f"/v1/jobs/{job.id}/rejects",
    }


def _job(store: Store, job_id: str) -> JobRecord:
    job = store.get_job(job_id)
    if job is None:
        raise ApiError(404, f"no job {job_id!r}", [("job_id", "unknown job")])
    return job


def _finished(store: Store, job_id: str) -> JobRecord:
    job = _job(store, job_id)
    if job.state != "succeeded":
        raise ApiError(409, f"job {job_id} is {job.state}; results exist once it has succeeded",
                       [("job_id", f"state {job.state}")])
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
    suffix = upload_suffix(file, REGISTRY_TYPES)
    job_id = str(uuid.uuid4())
    folder = jobs.job_dir(job_id)
    if save_upload(file, folder / f"input{suffix}") == 0:
        raise ApiError(422, "the uploaded file is empty", [("file", "empty file")])
    job = store.create_job(job_id=job_id, key_id=caller.key_id, input_name=(file.filename or "")[:255],
                           input_path=folder / f"input{suffix}", output_path=folder / RESULT_NAME,
                           rejects_path=folder / REJECTS_NAME, as_of=as_of_or_today(as_of), top_k=top_k)
    store.audit(key_id=caller.key_id, role=str(caller.role), action="job", job_id=job.id, n_firms=0,
                catalog_version=matcher.catalog_version, model_version=matcher.model_version)
    jobs.submit(job.id)
    return JSONResponse(JobView(**_view(job)).model_dump(mode="json"), status_code=202,
                        headers={"Location": f"/v1/jobs/{job.id}"})


@router.get("/{job_id}", response_model=JobView, responses=errors(404), summary="A job's state and counts")
def get_job(caller: CaseworkerDep, store: StoreDep, job_id: JobId) -> Any:
    return _view(_job(store, job_id))


@router.get("/{job_id}/result", responses={**errors(404, 409), 200: {"content": {"text/csv": {}},
            "description": "CSV: firm_id, rank, policy_id, verdict, score, approval_probability, "
                           "estimated_benefit, expected_value"}},
            response_class=FileResponse, summary="The job's matches (CSV)")
def job_result(caller: CaseworkerDep, store: StoreDep, job_id: JobId) -> FileResponse:
    job = _finished(store, job_id)
    return FileResponse(job.output_path, media_type="text/csv", filename=f"{job.id}-result.csv")


@router.get("/{job_id}/rejects", responses={**errors(404, 409), 200: {"content": {"text/csv": {}},
            "description": "CSV: row, firm_id, field, reason"}},
            response_class=FileResponse, summary="The job's rejected rows (CSV)")
def job_rejects(caller: CaseworkerDep, store: StoreDep, job_id: JobId) -> FileResponse:
    job = _finished(store, job_id)
    return FileResponse(job.rejects_path, media_type="text/csv", filename=f"{job.id}-rejects.csv")


