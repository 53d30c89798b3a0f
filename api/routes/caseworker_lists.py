"""Workspace pages that make a list to hand on: screening applicants against a policy, and the
免申即享 outreach list (the firms of a registry that qualify for a policy).

Both call what ``POST /v1/screen`` calls (:func:`api.routes.screening.applicants_from_upload`,
:func:`~api.routes.screening.screen_applicants`) and write the same files
(:func:`api.tables.handoff_response`). A list is kept for its downloads under
``<var_dir>/caseworker/lists/<id>.json``, readable by the caseworker who made it only, and
removed after :data:`KEEP_LISTS_SECONDS`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path as PathParam, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from api.deps import MatcherDep, SettingsDep, StoreDep
from api.errors import ApiError
from api.routes.caseworker_auth import FORM_ERROR_STATUS, SessionDep, form_with_csrf, page
from api.routes.params import EARLIEST, LATEST
from api.routes.screening import Applicants, applicants_from_upload, screen_applicants
from api.session import Session
from api.tables import handoff_response
from recommender import Cover, Matcher, RecommenderError, Settings, UnknownPolicyError, field_words

router = APIRouter(prefix="/caseworker", tags=["web"], include_in_schema=False)

KEEP_LISTS_SECONDS = 24 * 3600
OUTREACH_MAX_ROWS = 50_000
"""Registry rows one outreach list may read on the page (bulk jobs take any number)."""
SHOWN_ROWS = 1000
"""Rows shown in the page's table; the downloads carry them all."""
Kind = Literal["screen", "find-firms"]
ListId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$")]
VERDICT_ZH = {"eligible": "符合", "undetermined": "待补充", "ineligible": "不符合"}
TEXTS: dict[str, dict[str, str]] = {
    "screen": {"title": "筛查申报企业", "title_en": "Screen applicants", "action": "/caseworker/screen",
               "file_label": "申报企业名单（CSV 或 XLSX，每行一家企业） Applicants (CSV or XLSX, one firm per row)"},
    "find-firms": {"title": "免申即享：查找符合政策的企业", "title_en": "Find firms for a policy",
                   "action": "/caseworker/find-firms",
                   "file_label": "企业名录（CSV 或 XLSX） Registry of firms (CSV or XLSX)"},
}


def _lists_dir(settings: Settings) -> Path:
    return settings.var_dir / "caseworker" / "lists"


def _save(settings: Settings, record: dict[str, Any]) -> str:
    """Keep a list for its downloads; lists older than :data:`KEEP_LISTS_SECONDS` are removed."""
    folder = _lists_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_LISTS_SECONDS
    for old in folder.glob("*.json"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:
            pass
    list_id = uuid.uuid4().hex
    tmp = folder / f".{list_id}.tmp"
    tmp.write_text(json.dumps(record, ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(folder / f"{list_id}.json")
    return list_id


def _load(settings: Settings, list_id: str, session: Session) -> dict[str, Any]:
    try:
        record: dict[str, Any] = json.loads((_lists_dir(settings) / f"{list_id}.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        record = {}
    if record.get("owner") != session.principal.key_id:
        raise ApiError(404, "no such list (lists are kept for 24 hours)", [("list_id", "unknown list")])
    return record


def _wan(yuan: float | None) -> str:
    if yuan is None:
        return "未知"
    if yuan == 0:
        return "无直接金额"          # a recognition or service: no money of its own
    return f"{yuan / 10_000:,.1f} 万元" if yuan >= 10_000 else f"{yuan:,.0f} 元"


def common_checks(rows: list[dict[str, Any]]) -> list[str]:
    """The conditions to verify that every firm still in the running shares: the page lists
    them once above the table rather than on every row."""
    running = [r["verify_yourself"] for r in rows if r["verdict"] != "ineligible"]
    if not running:
        return []
    return [v for v in running[0] if all(v in other for other in running[1:])]


def shown_row(row: dict[str, Any], common: list[str]) -> dict[str, Any]:
    """A screening row as the page's table shows it (Chinese verdict, money in 万元, field
    labels, the conditions to verify beyond the ``common`` ones)."""
    return {**row, "verdict_zh": VERDICT_ZH[row["verdict"]], "benefit_text": _wan(row["estimated_benefit"]),
            "missing_text": [field_words(f) for f in row["missing_fields"]],
            "verify_common": bool(common) and any(v in common for v in row["verify_yourself"]),
            "verify_extra": [v for v in row["verify_yourself"] if v not in common]}


def _policies(matcher: Matcher) -> list[tuple[str, str]]:
    return sorted(((p.id, p.header.title_zh) for p in matcher.catalog), key=lambda x: x[1])


def _form_page(request: Request, session: Session, matcher: Matcher, kind: Kind, *, status_code: int = 200,
               errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
               result: dict[str, Any] | None = None) -> HTMLResponse:
    return page(request, "caseworker/list.html", session, status_code=status_code, kind=kind, text=TEXTS[kind],
                policies=_policies(matcher), errors=errors or {}, values=values or {}, result=result,
                today=dt.date.today().isoformat())


def read_form_date(form: FormData, name: str, errors: dict[str, str]) -> dt.date:
    """The form's ISO date field ``name`` (today when blank); an error is noted in ``errors``."""
    raw = str(form.get(name) or "").strip()
    if not raw:
        return dt.date.today()
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = "请按 年-月-日 填写日期，如 2022-06-30。 Use YYYY-MM-DD."
        return dt.date.today()
    if not EARLIEST <= day <= LATEST:
        errors[name] = f"日期须在 {EARLIEST} 至 {LATEST} 之间。 Out of range."
    return day


@router.get("/screen", response_class=HTMLResponse)
def screen_form(request: Request, session: SessionDep, matcher: MatcherDep, policy_id: str | None = None) -> HTMLResponse:
    return _form_page(request, session, matcher, "screen", values={"policy_id": policy_id or ""})


@router.get("/find-firms", response_class=HTMLResponse)
def find_form(request: Request, session: SessionDep, matcher: MatcherDep, policy_id: str | None = None) -> HTMLResponse:
    return _form_page(request, session, matcher, "find-firms", values={"policy_id": policy_id or ""})


@router.post("/screen", response_class=HTMLResponse)
async def screen_post(request: Request, session: SessionDep, matcher: MatcherDep, store: StoreDep,
                      settings: SettingsDep) -> HTMLResponse:
    async with form_with_csrf(request, session) as form:
        return await _make_list(request, session, form, matcher, store, settings, "screen")


@router.post("/find-firms", response_class=HTMLResponse)
async def find_post(request: Request, session: SessionDep, matcher: MatcherDep, store: StoreDep,
                    settings: SettingsDep) -> HTMLResponse:
    async with form_with_csrf(request, session) as form:
        return await _make_list(request, session, form, matcher, store, settings, "find-firms")


async def _make_list(request: Request, session: Session, form: FormData, matcher: Matcher, store: Any,
                     settings: Settings, kind: Kind) -> HTMLResponse:
    errors: dict[str, str] = {}
    policy_id = str(form.get("policy_id") or "")
    values = {"policy_id": policy_id, "as_of": str(form.get("as_of") or "")}
    if policy_id not in set(matcher.catalog.ids):
        errors["policy_id"] = "请选择一项政策。 Choose a policy."
    day = read_form_date(form, "as_of", errors)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = "请选择要上传的 CSV 或 XLSX 文件。 Choose a CSV or XLSX file."
    if errors or not isinstance(upload, UploadFile):
        return _form_page(request, session, matcher, kind, status_code=FORM_ERROR_STATUS, errors=errors, values=values)
    limit = settings.max_screen_applicants if kind == "screen" else OUTREACH_MAX_ROWS
    try:
        policy = matcher.policy(policy_id)
        applicants: Applicants = await run_in_threadpool(applicants_from_upload, upload, matcher, limit)
    except (ApiError, RecommenderError, UnknownPolicyError) as err:
        reasons = "; ".join(r for _, r in getattr(err, "issues", ())) if isinstance(err, ApiError) else ""
        detail = err.detail if isinstance(err, ApiError) else str(err)
        errors["file"] = f"文件无法读取 The file cannot be read: {detail}" + (f" ({reasons})" if reasons else "")
        return _form_page(request, session, matcher, kind, status_code=FORM_ERROR_STATUS, errors=errors, values=values)
    rows = await run_in_threadpool(screen_applicants, session.principal, policy, applicants, matcher, store, day,
                                   outreach=kind == "find-firms")
    record = {"owner": session.principal.key_id, "kind": kind, "policy_id": policy.id, "as_of": day.isoformat(),
              "catalog_version": matcher.catalog_version, "model_version": matcher.model_version,
              "rows": rows, "rejects": applicants.rejects}
    list_id = await run_in_threadpool(_save, settings, record)
    counts = {v: sum(1 for r in rows if r["verdict"] == v) for v in VERDICT_ZH}
    common = common_checks(rows)
    result = {"id": list_id, "policy": policy, "as_of": day.isoformat(), "common_checks": common,
              "rows": [shown_row(r, common) for r in rows[:SHOWN_ROWS]],
              "total": len(rows), "counts": counts, "rejects": applicants.rejects,
              "catalog_version": matcher.catalog_version, "read": len(applicants.frame)}
    return _form_page(request, session, matcher, kind, values=values, result=result)


@router.get("/lists/{list_id}.{fmt}")
def download_list(session: SessionDep, settings: SettingsDep, matcher: MatcherDep, list_id: ListId,
                  fmt: Literal["csv", "xlsx"]) -> Response:
    """A list made on this page, as the same CSV/XLSX ``/v1/screen`` writes."""
    record = _load(settings, list_id, session)
    kind: Kind = "find-firms" if record["kind"] == "find-firms" else "screen"
    cover = Cover(kind, matcher.policy(record["policy_id"]), dt.date.fromisoformat(record["as_of"]),
                  record["catalog_version"], record["model_version"])
    return handoff_response(fmt, record["rows"], record["rejects"], cover)
