"""The policy sandbox (SPEC §9): a reform — changes to the catalog — run over a registry as a
background job; its summary, report and changed firms.

``POST /v1/reforms`` takes a registry upload, or the id of a job whose registry was already
uploaded, and the changes as JSON; it checks the changes against the catalog at once (422
naming the policy and path) and queues a job run by the service's job runner. The same
(registry content, reform, catalog version, as-of) as an earlier reform the caller can see
answers with that reform (``cached: true``, 200) instead of running again.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from starlette.datastructures import UploadFile as Upload

from api.bodies import save_upload, upload_suffix
from api.deps import CaseworkerDep, JobsDep, MatcherDep, SettingsDep, StoreDep
from api.errors import ApiError
from api.jobs import REJECTS_NAME, JobRunner
from api.openapi import errors
from api.routes.jobs import (REGISTRY_TYPES, JobId, audit_download, finished_job, refuse_control_characters,
                             visible_job)
from api.routes.params import AsOfQuery, as_of_or_today
from api.security import Principal
from recommender import (REFORM_FIRMS_CSV, CatalogError, JobRecord, Matcher, Settings, Store, file_sha256,
                         is_reform_job, plan_reform, reform_cache_key, reform_result_dir, save_reform_request,
                         saved_reform_request, saved_reform_summary)

router = APIRouter(prefix="/v1/reforms", tags=["reforms"], responses=errors(401, 403, 422, 503))
CACHE_DIR = "reform-cache"


def reform_view(job: JobRecord, jobs: JobRunner, *, cached: bool = False) -> dict[str, Any]:
    """A reform job's state, and its summary (SPEC §9) once it has succeeded."""
    folder = jobs.job_dir(job.id)
    request = saved_reform_request(folder)
    return {
        "id": job.id, "state": job.state, "cached": cached, "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "input_name": job.input_name, "as_of": job.as_of.isoformat(), "rows_done": job.rows_done,
        "reform_hash": request["reform_hash"], "catalog_version": request["catalog_version"],
        "error": job.error,
        "summary": saved_reform_summary(folder) if job.state == "succeeded" else None,
        "report_url": f"/v1/reforms/{job.id}/report", "firms_url": f"/v1/reforms/{job.id}/firms",
    }


def reform_job(store: Store, jobs: JobRunner, job_id: str, caller: Principal) -> JobRecord:
    """A job the caller may see that is a reform (404 otherwise, as for a job that does not exist)."""
    job = visible_job(store, job_id, caller)
    if not is_reform_job(jobs.job_dir(job.id)):
        raise ApiError(404, f"no reform {job_id!r}", [("reform_id", "unknown reform")])
    return job


def _changes(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ApiError(422, f"changes: not JSON ({err.msg} at character {err.pos})",
                       [("changes", f"not JSON: {err.msg}")]) from None
    except RecursionError:
        raise ApiError(422, "changes: nested too deeply", [("changes", "nested too deeply")]) from None


def _cached(store: Store, jobs: JobRunner, key: str, caller: Principal) -> JobRecord | None:
    """The earlier reform with the same cache key the caller can see, unless it failed."""
    entry = jobs.jobs_dir / CACHE_DIR / key
    if not entry.is_file():
        return None
    job = store.get_job(entry.read_text(encoding="utf-8").strip())
    if job is None or job.state == "failed" or (job.key_id != caller.key_id and not caller.may("admin")):
        return None
    return job


def submit_reform(caller: Principal, matcher: Matcher, settings: Settings, store: Store, jobs: JobRunner,
                  changes: str, file: Upload | None, registry_job_id: str | None,
                  day: dt.date) -> tuple[JobRecord, bool]:
    """Check the changes, store the registry under a new job and queue it; ``(job, cached)``:
    the earlier reform of the same registry content, changes, catalog and date when there is
    one the caller can see. 422 for bad changes (naming the policy and path) or an empty file,
    415 for another file type, 404 for an unknown ``registry_job_id``."""
    if (file is None) == (registry_job_id is None):
        raise ApiError(422, "give a registry file or registry_job_id (one of them)",
                       [("file", "give a file or registry_job_id, not both or neither")])
    data = _changes(changes)
    catalog_dir = settings.resolved_catalog_dir()
    try:
        reform = plan_reform(data, catalog_dir, matcher.ref)
    except CatalogError as err:
        raise ApiError(422, f"changes: {err}", [(f"changes: {err.path or ''}".rstrip(": "), str(err))]) from None
    except RecursionError:
        raise ApiError(422, "changes: nested too deeply", [("changes", "nested too deeply")]) from None
    job_id = str(uuid.uuid4())
    folder = jobs.job_dir(job_id)
    try:
        if file is not None:
            refuse_control_characters(file)
            suffix = upload_suffix(file, REGISTRY_TYPES)
            if save_upload(file, folder / f"input{suffix}") == 0:
                raise ApiError(422, "the uploaded file is empty", [("file", "empty file")])
            name = file.filename or ""
        else:
            source = visible_job(store, str(registry_job_id), caller)
            suffix = source.input_path.suffix
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source.input_path, folder / f"input{suffix}")
            name = source.input_name
        key = reform_cache_key(file_sha256(folder / f"input{suffix}"), reform.reform_hash, reform.base.version, day)
        earlier = _cached(store, jobs, key, caller)
        if earlier is not None:
            shutil.rmtree(folder, ignore_errors=True)
            return earlier, True
        save_reform_request(folder, data, reform, catalog_dir, key)
        result = reform_result_dir(folder)
        job = store.create_job(job_id=job_id, key_id=caller.key_id, input_name=name, input_path=folder / f"input{suffix}",
                               output_path=result / REFORM_FIRMS_CSV, rejects_path=result / REJECTS_NAME,
                               as_of=day, top_k=1)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)          # no job: no files left behind
        raise
    (jobs.jobs_dir / CACHE_DIR).mkdir(parents=True, exist_ok=True)
    (jobs.jobs_dir / CACHE_DIR / key).write_text(job.id, encoding="utf-8")
    store.audit(key_id=caller.key_id, role=str(caller.role), action="reform", job_id=job.id, n_firms=0,
                catalog_version=matcher.catalog_version, model_version=matcher.model_version)
    jobs.submit(job.id)
    return job, False


@router.post("", status_code=202, responses={**errors(404, 413, 415), 200: {
             "description": "the earlier reform of the same registry, changes, catalog and date (cached: true)"}},
             summary="Run a reform (catalog changes) over a registry")
def create_reform(caller: CaseworkerDep, matcher: MatcherDep, settings: SettingsDep, store: StoreDep,
                  jobs: JobsDep,
                  changes: Annotated[str, Form(description="JSON list of {policy_id, path, value} (SPEC §9)")],
                  file: Annotated[UploadFile | None, File(description="registry: CSV, Parquet or XLSX")] = None,
                  registry_job_id: Annotated[str | None, Form(max_length=36, description="use the registry "
                                                              "uploaded for this job instead of a file")] = None,
                  as_of: AsOfQuery = None) -> Any:
    """202 and the reform's job (poll ``GET /v1/reforms/{id}``); 200 with ``cached: true`` and
    the earlier reform when the same registry, changes, catalog and date were run before."""
    job, cached = submit_reform(caller, matcher, settings, store, jobs, changes,
                                file if isinstance(file, Upload) else None, registry_job_id, as_of_or_today(as_of))
    return JSONResponse(reform_view(job, jobs, cached=cached), status_code=200 if cached else 202,
                        headers={"Location": f"/v1/reforms/{job.id}"})


@router.get("/{job_id}", responses=errors(404), summary="A reform's state, then its summary")
def get_reform(caller: CaseworkerDep, store: StoreDep, jobs: JobsDep, job_id: JobId) -> Any:
    return reform_view(reform_job(store, jobs, job_id, caller), jobs)


def _downloaded(caller: Any, store: Any, jobs: Any, job_id: str, what: str) -> Any:
    """A succeeded reform of the caller's (404 unknown or another kind, 409 unfinished), its
    download recorded in the audit log as ``what``."""
    reform_job(store, jobs, job_id, caller)
    job = finished_job(store, job_id, caller)
    audit_download(store, caller, job, what)
    return job


@router.get("/{job_id}/report", responses={**errors(404, 409), 200: {"content": {"text/html": {}},
            "description": "the self-contained HTML report"}},
            response_class=FileResponse, summary="A finished reform's report (HTML)")
def reform_report(caller: CaseworkerDep, store: StoreDep, jobs: JobsDep, job_id: JobId) -> FileResponse:
    job = _downloaded(caller, store, jobs, job_id, "reform_report")
    return FileResponse(reform_result_dir(jobs.job_dir(job.id)) / "report.html", media_type="text/html")


@router.get("/{job_id}/firms", responses={**errors(404, 409), 200: {"content": {"text/csv": {}},
            "description": "CSV: firm_id, policy_id, verdict_before, verdict_after, benefit_before, benefit_after"}},
            response_class=FileResponse, summary="A finished reform's changed firms (CSV)")
def reform_firms(caller: CaseworkerDep, store: StoreDep, jobs: JobsDep, job_id: JobId) -> FileResponse:
    job = _downloaded(caller, store, jobs, job_id, "reform_firms")
    return FileResponse(job.output_path, media_type="text/csv", filename=f"{job.id}-firms.csv")
