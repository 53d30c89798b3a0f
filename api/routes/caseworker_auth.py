"""The caseworker workspace's door: sign in with the caseworker key, sign out, the home page.

Pages of the workspace declare :data:`SessionDep`; without a valid session cookie a page
request is redirected to the sign-in form (303, with ``next``), and any other request (a
download, a script's fetch) gets 401. Forms that change something check the session's CSRF
token (:func:`form_with_csrf`); a wrong or missing token is 403. See :mod:`api.session`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from api.deps import StateDep
from api.pages import render
from api.session import (COOKIE, CsrfRefused, LoginRequired, Session, clear_session_cookie, login_token,
                         login_token_ok, set_login_cookie, set_session_cookie)

router = APIRouter(prefix="/caseworker", tags=["web"], include_in_schema=False)
MAX_KEY_LENGTH = 200
FORM_ERROR_STATUS = 200
"""Status of a form shown again with its errors: the page itself loaded fine (a browser logs a
4xx page as a failed load); the errors are in the page, each field marked ``aria-invalid``.
Requests without a session (401/redirect) and forms without their token (403) keep theirs."""


async def current_session(request: Request, state: StateDep) -> Session:
    """The signed-in caseworker (:class:`LoginRequired` otherwise)."""
    return state.sessions.verify(request.cookies.get(COOKIE))


SessionDep = Annotated[Session, Depends(current_session)]


def page(request: Request, template: str, session: Session | None, status_code: int = 200,
         **context: Any) -> HTMLResponse:
    """A workspace page: the template with the session's CSRF token and the navigation."""
    return render(request, template, status_code=status_code, nav="caseworker", session=session,
                  csrf=session.csrf if session else "", **context)


@asynccontextmanager
async def form_with_csrf(request: Request, session: Session) -> AsyncIterator[FormData]:
    """``async with form_with_csrf(request, session) as form``: the posted form, once its CSRF
    token has been checked (:class:`CsrfRefused` if wrong); uploaded files are closed after."""
    async with request.form(max_files=1, max_fields=20) as form:
        session.check_csrf(form.get("csrf"))
        yield form


def _safe_next(target: str | None) -> str:
    """Only a path inside the workspace (never another site) is followed after sign-in."""
    if target and target.startswith("/caseworker") and not target.startswith("/caseworker/login") \
            and "//" not in target and "\\" not in target:
        return target
    return "/caseworker"


def _hours(seconds: int) -> str:
    return f"{seconds / 3600:g}"


def _wants_page(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def install(app: FastAPI) -> None:
    """Answers for requests without a session and for forms without their token."""

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        if _wants_page(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response: Response = RedirectResponse(f"/caseworker/login?next={quote(target)}", status_code=303)
        else:
            response = Response(f"401: {exc.reason}; sign in at /caseworker/login", status_code=401,
                                media_type="text/plain; charset=utf-8")
        if request.cookies.get(COOKIE):
            clear_session_cookie(response, request)         # a stale cookie is dropped
        return response

    async def csrf_refused(request: Request, exc: Exception) -> Response:
        return render(request, "caseworker/error.html", status_code=403, nav="caseworker", session=None,
                      csrf="", title="请求被拒绝 Request refused",
                      message="表单的安全令牌缺失或不正确，请返回页面重新提交。 "
                              "The form's security token is missing or wrong: go back and submit it again.")

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(CsrfRefused, csrf_refused)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, state: StateDep, next: str | None = None) -> HTMLResponse:
    token = login_token(request)
    response = page(request, "caseworker/login.html", None, next=_safe_next(next), login_token=token, error=None,
                    hours=_hours(state.sessions.lifetime))
    set_login_cookie(response, request, token)
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, state: StateDep) -> Response:
    async with request.form(max_files=0, max_fields=5) as form:
        target = _safe_next(str(form.get("next") or ""))
        key = str(form.get("key") or "").strip()
        sent_token = form.get("login_token")
    principal = state.keys.identify(key) if key and len(key) <= MAX_KEY_LENGTH else None
    error = None
    if not login_token_ok(request, sent_token):
        error = "登录表单已过期，请重新输入密钥。 The sign-in form has expired: enter the key again."
    elif not key:
        error = "请输入窗口密钥。 Enter your caseworker key."
    elif principal is None:
        error = "密钥无效，请检查后重试。 This key is not valid."
    elif not principal.may("caseworker"):
        error = "该密钥没有窗口工作台权限。 This key does not open the caseworker workspace."
    if error is not None or principal is None:
        token = login_token(request)
        response: Response = page(request, "caseworker/login.html", None, status_code=FORM_ERROR_STATUS, next=target,
                                  login_token=token, error=error, hours=_hours(state.sessions.lifetime))
        set_login_cookie(response, request, token)
        return response
    cookie, _ = state.sessions.issue(principal)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, cookie, state.sessions.lifetime)
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep) -> Response:
    async with form_with_csrf(request, session):
        response = RedirectResponse("/caseworker/login?out=1", status_code=303)
    clear_session_cookie(response, request)
    return response


@router.get("", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> HTMLResponse:
    return page(request, "caseworker/home.html", session)
