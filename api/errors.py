"""Exception handlers: every error is JSON ``{"detail": …, "issues": [{"field", "reason"}]}``.

Domain errors (:mod:`recommender.errors`) map to 4xx with the field path kept:

============================  ======  =====================================================
error                         status  ``issues[].field``
============================  ======  =====================================================
RequestValidationError        422     pydantic's ``loc`` joined with dots (``body.revenue``)
BodyValidationError           422     ``body.`` + the path inside the body
ProfileError                  422     each :class:`~recommender.errors.FieldIssue` field
InputFileError                422     ``file`` (location, e.g. ``line 3``, in the reason)
UnknownPolicyError            404     ``policy_id``
CatalogError, model errors    409     file / policy / criterion path (a reload was refused)
ApiError                      its own (401, 403, 404, 409, 413, 415)
database unavailable          503     ``database`` (unreachable, locked, file deleted or replaced;
                                      :func:`recommender.store.database_down`), ``Retry-After``
anything else                 500     none (logged; never expected from bad input)
============================  ======  =====================================================
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.logs import REQUEST_ID, REQUEST_ID_HEADER
from recommender import (CatalogError, InputFileError, ModelArtifactError, NotFittedError, ProfileError,
                         StoreUnavailable, UnknownPolicyError, database_down, profile_issues)

log = logging.getLogger("api")


class ApiError(Exception):
    """An HTTP error raised inside ``api/`` (the domain never raises one)."""

    def __init__(self, status: int, detail: str, issues: Sequence[tuple[str, str]] = (),
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.issues = list(issues)
        self.headers = headers


class BodyValidationError(Exception):
    """A request body failed validation; ``prefix`` is its location (``body``)."""

    def __init__(self, error: ValidationError, prefix: str = "body") -> None:
        super().__init__(str(error))
        self.error = error
        self.prefix = prefix


def error_response(status: int, detail: str, issues: Sequence[tuple[str, str]] = (),
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"detail": detail, "issues": [{"field": f, "reason": r} for f, r in issues]}
    return JSONResponse(body, status_code=status, headers=headers)


def _loc(parts: Sequence[Any]) -> str:
    return ".".join(str(p) for p in parts)


def _request_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = []
    for e in exc.errors():
        reason = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        if e.get("type") == "extra_forbidden":
            reason = "unknown field (not in SPEC §2)"
        issues.append((_loc(e.get("loc", ())), reason))
    return error_response(422, "invalid request", issues)


def _body_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyValidationError)
    issues = [(f"{exc.prefix}.{i.field}" if i.field != "(profile)" else exc.prefix, i.reason)
              for i in profile_issues(exc.error)]
    return error_response(422, "invalid request body", issues)


def _profile_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProfileError)
    return error_response(422, str(exc), [(i.field, i.reason) for i in exc.issues])


def _input_file(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputFileError)
    where = f" ({exc.location})" if exc.location else ""
    return error_response(422, "the uploaded file cannot be read", [("file", exc.reason + where)])


def _unknown_policy(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnknownPolicyError)
    return error_response(404, str(exc), [("policy_id", f"unknown policy {exc.policy_id!r}")])


def _catalog(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CatalogError)
    field = ".".join(p for p in (exc.file, exc.policy_id, exc.path) if p) or "catalog"
    return error_response(409, f"catalog refused: {exc}", [(field, exc.reason)])


def _model(_: Request, exc: Exception) -> JSONResponse:
    return error_response(409, f"model refused: {exc}", [("model", str(exc))])


def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.detail, exc.issues, exc.headers)


def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 for a database that cannot be used now (the details, which may name server paths,
    only in the log); any other database error is unexpected (500)."""
    if not database_down(exc):
        return _unexpected(request, exc)
    log.error("database unavailable on %s %s: %s: %s", request.method, request.url.path,
              type(exc).__name__, exc)
    reason = exc.reason if isinstance(exc, StoreUnavailable) else "unreachable or locked"
    return error_response(503, "the database is unavailable; nothing was stored, try again later",
                          [("database", reason)], headers={"Retry-After": "5"})


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)   # called after the except
    request_id = REQUEST_ID.get()          # answered outside RequestObserver, which adds it to the others
    return error_response(500, "internal error", headers={REQUEST_ID_HEADER: request_id} if request_id else None)


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler above on ``app``."""
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(BodyValidationError, _body_validation)
    app.add_exception_handler(ProfileError, _profile_error)
    app.add_exception_handler(InputFileError, _input_file)
    app.add_exception_handler(UnknownPolicyError, _unknown_policy)
    app.add_exception_handler(CatalogError, _catalog)
    app.add_exception_handler(ModelArtifactError, _model)
    app.add_exception_handler(NotFittedError, _model)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http)
    for unavailable in (StoreUnavailable, DBAPIError, PoolTimeout):
        app.add_exception_handler(unavailable, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
