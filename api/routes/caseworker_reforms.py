"""The workspace page of the policy sandbox (政策沙盘): upload a registry, write the changes,
follow the run, read the summary and the report, download the changed firms. It calls what
``POST /v1/reforms`` calls (:func:`api.routes.reforms.submit_reform`), for the signed-in
caseworker's key id."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from api.deps import JobsDep, MatcherDep, SettingsDep, StoreDep
from api.errors import ApiError
from api.jobs import JobRunner
from api.routes.caseworker_auth import FORM_ERROR_STATUS, SessionDep, form_with_csrf, page
from api.routes.caseworker_lists import read_form_date
from api.routes.caseworker_records import STATE_ZH
from api.routes.jobs import JobId, audit_download, finished_job
from api.routes.reforms import reform_job, reform_view, submit_reform
from api.session import Session
from recommender import Store, is_reform_job, reform_result_dir

router = APIRouter(prefix="/caseworker", tags=["web"], include_in_schema=False)
EXAMPLE = '[{"policy_id": "cn-srdi-sme", "path": "criteria.rd_ratio.value", "value": 0.025}]'
SHOWN = 20


def _form_page(request: Request, session: Session, store: Store, jobs: JobRunner, *, status_code: int = 200,
               errors: dict[str, str] | None = None, changes: str = EXAMPLE) -> HTMLResponse:
    mine, _ = store.list_jobs(key_id=session.principal.key_id, limit=100)
    reforms = [{"job": j, "state_zh": STATE_ZH.get(j.state, j.state)} for j in mine
               if is_reform_job(jobs.job_dir(j.id))][:SHOWN]
    return page(request, "caseworker/reforms.html", session, status_code=status_code, errors=errors or {},
                changes=changes, reforms=reforms)


@router.get("/reforms", response_class=HTMLResponse)
def reforms_page(request: Request, session: SessionDep, store: StoreDep, jobs: JobsDep) -> HTMLResponse:
    return _form_page(request, session, store, jobs)


@router.post("/reforms", response_class=HTMLResponse)
async def reforms_post(request: Request, session: SessionDep, matcher: MatcherDep, settings: SettingsDep,
                       store: StoreDep, jobs: JobsDep) -> Response:
    async with form_with_csrf(request, session) as form:
        errors: dict[str, str] = {}
        day = read_form_date(form, "as_of", errors)
        changes = str(form.get("changes") or "")
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            errors["file"] = "请选择要上传的企业名录（CSV、XLSX 或 Parquet）。 Choose a registry file."
        if not changes.strip():
            errors["changes"] = "请填写政策调整（JSON 列表）。 Write the changes (a JSON list)."
        if not errors and isinstance(upload, UploadFile):
            try:
                job, _ = await run_in_threadpool(submit_reform, session.principal, matcher, settings, store, jobs,
                                                 changes, upload, None, day)
            except ApiError as err:
                field = "changes" if err.issues and err.issues[0][0].startswith("changes") else "file"
                errors[field] = f"未能受理 Not accepted: {err.detail}"
            else:
                return RedirectResponse(f"/caseworker/reforms/{job.id}", status_code=303)
        return _form_page(request, session, store, jobs, status_code=FORM_ERROR_STATUS, errors=errors,
                          changes=changes)


@router.get("/reforms/{job_id}", response_class=HTMLResponse)
def reform_page(request: Request, session: SessionDep, store: StoreDep, jobs: JobsDep, job_id: JobId) -> HTMLResponse:
    """One reform: its state (the page reloads itself until it ends), then its summary."""
    job = reform_job(store, jobs, job_id, session.principal)
    view: dict[str, Any] = reform_view(job, jobs)
    return page(request, "caseworker/reform.html", session, reform=view, state_zh=STATE_ZH.get(job.state, job.state),
                active=job.state in ("queued", "running"))


@router.get("/reforms/{job_id}/report", response_class=FileResponse)
def reform_report_page(session: SessionDep, store: StoreDep, jobs: JobsDep, job_id: JobId) -> FileResponse:
    reform_job(store, jobs, job_id, session.principal)
    job = finished_job(store, job_id, session.principal)
    audit_download(store, session.principal, job, "reform_report")
    return FileResponse(reform_result_dir(jobs.job_dir(job.id)) / "report.html", media_type="text/html")


@router.get("/reforms/{job_id}/firms.csv", response_class=FileResponse)
def reform_firms_file(session: SessionDep, store: StoreDep, jobs: JobsDep, job_id: JobId) -> FileResponse:
    reform_job(store, jobs, job_id, session.principal)
    job = finished_job(store, job_id, session.principal)
    audit_download(store, session.principal, job, "reform_firms")
    return FileResponse(job.output_path, media_type="text/csv",
                        filename=f"{(job.input_name or job.id).rsplit('.', 1)[0]}-reform-firms.csv")
