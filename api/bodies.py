"""Request bodies: JSON validated against the domain models, and spreadsheet uploads.

Profiles are validated with the *loaded* reference tables as pydantic context (the same
tables the matcher uses), so the body parser lives here rather than in FastAPI's default
body handling; :mod:`api.openapi` still documents each body with the domain model's schema.
Counts are checked before items are validated, so an oversized batch gets 413 (with a
pointer to ``/v1/jobs``), not a list of 422s.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import Request
from starlette.datastructures import UploadFile
from pydantic import TypeAdapter, ValidationError

from api.errors import ApiError, BodyValidationError
from recommender import (FirmProfile, OutcomeRecord, RecommenderError, ReferenceTables, load_json,
                         read_registry)
from recommender import SubscriptionRequest

PROFILE = TypeAdapter(FirmProfile)
PROFILES = TypeAdapter(list[FirmProfile])
OUTCOMES = TypeAdapter(list[OutcomeRecord])
SPREADSHEET_TYPES = {".csv": "text/csv",
                     ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
JSON_TYPES = ("application/json",)
log = logging.getLogger("api")


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _require_json(request: Request) -> None:
    kind = media_type(request)
    if kind and kind not in JSON_TYPES and not kind.endswith("+json"):
        raise ApiError(415, f"unsupported content type {kind!r}; send application/json",
                       [("header.Content-Type", kind)])


def _load(raw: bytes) -> Any:
    try:
        return load_json(raw)
    except ValueError as err:
        raise ApiError(422, "the body is not valid JSON", [("body", str(err))]) from None


EARLIEST_REGISTRATION = dt.date(1900, 1, 1)
"""Older ``established_on`` dates are refused: the evaluation frame stores dates as
datetime64[ns] (years 1678–2261), and no firm in a registry predates 1900. FirmProfile does
not bound the date yet; until it does, this guard keeps such input a 422, not a 500."""


def _check_dates(profiles: list[FirmProfile], prefix: str) -> None:
    issues = [(f"{prefix}{i}.established_on" if prefix else "body.established_on",
               f"{p.established_on.isoformat()} is before {EARLIEST_REGISTRATION.isoformat()}")
              for i, p in enumerate(profiles)
              if p.established_on is not None and p.established_on < EARLIEST_REGISTRATION]
    if issues:
        raise ApiError(422, "invalid request body", issues[:50])


def too_many(count: int, limit: int, what: str) -> ApiError:
    return ApiError(413, f"{count} {what} in one request; the limit is {limit}. "
                    "Upload a registry to POST /v1/jobs for bulk runs.",
                    [("body", f"at most {limit} {what} (use POST /v1/jobs)")])


async def profile_body(request: Request, ref: ReferenceTables) -> FirmProfile:
    """One firm profile from a JSON body."""
    _require_json(request)
    raw = await request.body()
    try:
        profile = PROFILE.validate_json(raw, context={"ref": ref})
    except ValidationError as err:
        if any(e["type"] == "json_invalid" for e in err.errors()):
            _load(raw)                       # raises the 422 with the parser's reason
        raise BodyValidationError(err) from None
    _check_dates([profile], "")
    return profile


async def profiles_body(request: Request, ref: ReferenceTables, limit: int) -> list[FirmProfile]:
    """A JSON list of profiles, at most ``limit`` long, with unique firm ids."""
    _require_json(request)
    raw = await request.body()
    data = _load(raw)
    if isinstance(data, list) and len(data) > limit:
        raise too_many(len(data), limit, "profiles")
    try:
        profiles = PROFILES.validate_json(raw, context={"ref": ref})
    except ValidationError as err:
        raise BodyValidationError(err) from None
    _check_dates(profiles, "body.")
    seen: dict[str, int] = {}
    for i, p in enumerate(profiles):
        if p.firm_id in seen:
            raise ApiError(422, "duplicate firm_id", [(f"body.{i}.firm_id",
                                                       f"duplicate of item {seen[p.firm_id]}")])
        seen[p.firm_id] = i
    return profiles


async def outcomes_body(request: Request, limit: int) -> list[OutcomeRecord]:
    """A JSON list of outcome rows (SPEC §7)."""
    _require_json(request)
    raw = await request.body()
    data = _load(raw)
    if isinstance(data, list) and len(data) > limit:
        raise too_many(len(data), limit, "outcomes")
    try:
        return OUTCOMES.validate_json(raw)
    except ValidationError as err:
        raise BodyValidationError(err) from None


def upload_suffix(upload: UploadFile, allowed: dict[str, str]) -> str:
    """The upload's file type from its name (or content type); 415 when not ``allowed``."""
    name = (upload.filename or "").lower()
    suffix = Path(name).suffix
    if suffix not in allowed:
        by_type = {v: k for k, v in allowed.items()}
        suffix = by_type.get((upload.content_type or "").lower(), suffix)
    if suffix not in allowed:
        raise ApiError(415, f"unsupported file type {suffix or upload.content_type!r}; "
                       f"upload one of {', '.join(sorted(allowed))}",
                       [("file", f"unsupported type {suffix or upload.content_type!r}")])
    return suffix


def save_upload(upload: UploadFile, target: Path) -> int:
    """Copy an upload to ``target``; the number of bytes written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    upload.file.seek(0)
    with open(target, "wb") as out:
        while chunk := upload.file.read(1 << 20):
            out.write(chunk)
            size += len(chunk)
    return size


def read_applicants(upload: UploadFile, ref: ReferenceTables) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A CSV/XLSX upload as (valid typed profile frame, rejects with row, firm_id, field, reason)."""
    suffix = upload_suffix(upload, SPREADSHEET_TYPES)
    with tempfile.TemporaryDirectory(prefix="screen-") as tmp:
        path = Path(tmp) / f"applicants{suffix}"
        if save_upload(upload, path) == 0:
            raise ApiError(422, "the uploaded file is empty", [("file", "empty file")])
        try:
            valid, rejects = read_registry(path, ref)
        except RecommenderError:
            raise
        except Exception as err:  # noqa: BLE001
            # The reader's own errors are InputFileError; a malformed file can still trip a
            # parser underneath (e.g. zipfile.BadZipFile from openpyxl). That is bad input,
            # never a server error; it is logged so a reader bug stays visible.
            log.warning("unreadable upload: %s: %s", type(err).__name__, err)
            raise ApiError(422, "the uploaded file cannot be read",
                           [("file", f"{type(err).__name__}: {err}"[:300])]) from None
    return valid, rejects


SUBSCRIPTION = TypeAdapter(SubscriptionRequest)


async def subscription_body(request: Request, ref: ReferenceTables, *, email_enabled: bool) -> SubscriptionRequest:
    """A subscription request (SPEC §10) from a JSON body: the profile validated like
    ``POST /v1/match`` (fields under ``body.profile.…``); an ``email`` only where the service
    sends e-mail."""
    _require_json(request)
    raw = await request.body()
    try:
        body = SUBSCRIPTION.validate_json(raw, context={"ref": ref, "email_enabled": email_enabled})
    except ValidationError as err:
        if any(e["type"] == "json_invalid" for e in err.errors()):
            _load(raw)
        raise BodyValidationError(err) from None
    try:
        _check_dates([body.profile], "")
    except ApiError as err:                  # the same check, the field under body.profile
        err.issues = [(f.replace("body.", "body.profile.", 1), r) for f, r in err.issues]
        raise
    return body
