"""Workspace pages for bulk jobs (upload a registry, follow it, download its files) and for
recording application outcomes. They call what ``/v1/jobs`` and ``/v1/outcomes`` call
(:func:`api.routes.jobs.submit_job`, :func:`api.routes.outcomes.record`), for the signed-in
caseworker's key id: a caseworker sees the jobs made with their key, here as in the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from api.deps import JobsDep, MatcherDep, StoreDep
from api.errors import ApiError
from api.routes.caseworker_auth import FORM_ERROR_STATUS, SessionDep, form_with_csrf, page
from api.routes.caseworker_lists import read_form_date
from api.routes.jobs import JobId, audit_download, finished_job, submit_job, visible_job
from api.routes.outcomes import record
from api.jobs import JobRunner
from api.session import Session
from recommender import JobRecord, Matcher, OutcomeRecord, Store

router = APIRouter(prefix="/caseworker", tags=["web"], include_in_schema=False)
JOBS_SHOWN = 50
STATE_ZH = {"queued": "排队中", "running": "运行中", "succeeded": "已完成", "failed": "失败"}
OUTCOME_ZH = {"applied": "已申报", "approved": "已获批", "rejected": "未获批"}


def _job_rows(jobs: list[JobRecord]) -> list[dict[str, Any]]:
    return [{"job": j, "state_zh": STATE_ZH.get(j.state, j.state)} for j in jobs]


def _jobs_page(request: Request, session: Session, store: Store, *, fragment: bool = False,
               status_code: int = 200, errors: dict[str, str] | None = None, new: str | None = None) -> HTMLResponse:
    jobs, total = store.list_jobs(key_id=session.principal.key_id, limit=JOBS_SHOWN)
    active = any(j.state in ("queued", "running") for j in jobs)
    return page(request, "caseworker/jobs_table.html" if fragment else "caseworker/jobs.html", session,
                status_code=status_code, jobs=_job_rows(jobs), total=total, active=active, errors=errors or {},
                new=new)


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, session: SessionDep, store: StoreDep, fragment: bool = False,
              new: str | None = None) -> HTMLResponse:
    """The upload form and this caseworker's jobs (``fragment``: the table alone, for polling)."""
    return _jobs_page(request, session, store, fragment=fragment, new=new)


@router.post("/jobs", response_class=HTMLResponse)
async def jobs_post(request: Request, session: SessionDep, matcher: MatcherDep, store: StoreDep,
                    jobs: JobsDep) -> Response:
    async with form_with_csrf(request, session) as form:
        return await _start_job(request, session, form, matcher, store, jobs)


async def _start_job(request: Request, session: Session, form: FormData, matcher: Matcher, store: Store,
                     jobs: JobRunner) -> Response:
    errors: dict[str, str] = {}
    day = read_form_date(form, "as_of", errors)
    raw_top = str(form.get("top_k") or "10")
    top_k = int(raw_top) if raw_top.isdigit() else 0
    if not 1 <= top_k <= 100:
        errors["top_k"] = "每家企业列出的政策数须为 1 至 100。 Between 1 and 100."
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = "请选择要上传的企业名录（CSV、XLSX 或 Parquet）。 Choose a registry file."
    if not errors and isinstance(upload, UploadFile):
        try:
            job = await run_in_threadpool(submit_job, session.principal, matcher, store, jobs, upload, day, top_k)
        except ApiError as err:
            errors["file"] = f"无法受理该文件 The file was not accepted: {err.detail}"
        else:
            return RedirectResponse(f"/caseworker/jobs?new={job.id}", status_code=303)
    return _jobs_page(request, session, store, status_code=FORM_ERROR_STATUS, errors=errors)


@router.get("/jobs/{job_id}/{part}.csv")
def job_file(session: SessionDep, store: StoreDep, job_id: JobId, part: str) -> FileResponse:
    """A finished job's result or rejects, as ``/v1/jobs/{id}/result`` and ``…/rejects`` give them."""
    if part not in ("result", "rejects"):
        raise ApiError(404, f"no file {part!r}", [("part", "result or rejects")])
    job = finished_job(store, job_id, session.principal)
    audit_download(store, session.principal, job, f"job_{part}")
    path = job.output_path if part == "result" else job.rejects_path
    return FileResponse(path, media_type="text/csv", filename=f"{(job.input_name or job.id).rsplit('.', 1)[0]}-{part}.csv")


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, session: SessionDep, store: StoreDep, job_id: JobId) -> HTMLResponse:
    job = visible_job(store, job_id, session.principal)
    return page(request, "caseworker/jobs_table.html", session, jobs=_job_rows([job]), total=1,
                active=job.state in ("queued", "running"), errors={}, new=None)


def _outcomes_page(request: Request, session: Session, store: Store, matcher: Matcher, *, status_code: int = 200,
                   errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                   done: str | None = None) -> HTMLResponse:
    recent = store.recent_outcomes(key_id=session.principal.key_id)
    titles = {p.id: p.header.title_zh for p in matcher.catalog}
    return page(request, "caseworker/outcomes.html", session, status_code=status_code, errors=errors or {},
                values=values or {}, done=done, recent=recent, titles=titles, outcome_zh=OUTCOME_ZH,
                policies=sorted(titles.items(), key=lambda x: x[1]))


@router.get("/outcomes", response_class=HTMLResponse)
def outcomes_page(request: Request, session: SessionDep, store: StoreDep, matcher: MatcherDep,
                  done: str | None = None) -> HTMLResponse:
    return _outcomes_page(request, session, store, matcher, done=done)


_FIELD_NAMES = {"firm_id": "firm_id", "policy_id": "policy_id", "event_date": "event_date", "outcome": "outcome"}
_FIELD_HINTS = {"firm_id": "请填写企业编号（1–64 个字符）。 Enter the firm id.",
                "policy_id": "请选择政策。 Choose a policy.",
                "event_date": "请按 年-月-日 填写日期。 Use YYYY-MM-DD.",
                "outcome": "请选择办理结果。 Choose an outcome."}


@router.post("/outcomes", response_class=HTMLResponse)
async def outcomes_post(request: Request, session: SessionDep, store: StoreDep, matcher: MatcherDep) -> Response:
    async with form_with_csrf(request, session) as form:
        values = {k: str(form.get(k) or "").strip() for k in _FIELD_NAMES}
    errors: dict[str, str] = {}
    try:
        rec = OutcomeRecord.model_validate(values)
    except ValidationError as err:
        for e in err.errors():
            name = str(e["loc"][0]) if e["loc"] else "firm_id"
            errors.setdefault(name, _FIELD_HINTS.get(name, str(e["msg"])))
    else:
        if rec.policy_id not in set(matcher.catalog.ids):
            errors["policy_id"] = _FIELD_HINTS["policy_id"]
    if errors:
        return _outcomes_page(request, session, store, matcher, status_code=FORM_ERROR_STATUS, errors=errors, values=values)
    recorded, _ = await run_in_threadpool(record, session.principal, [rec], store, matcher)
    return RedirectResponse(f"/caseworker/outcomes?done={'new' if recorded else 'duplicate'}", status_code=303)
