"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import StateDep
from api.errors import error_response
from api.openapi import errors
from api.schemas import Health, Readiness
from recommender import StoreUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses=errors(503),
            summary="Catalog and model loaded, database reachable, job runner alive")
def readyz(state: StateDep) -> Readiness | JSONResponse:
    """Ready when the database answers (an SQLite file must still be the one opened: not
    deleted or replaced) and every job-runner thread is alive and looping (idle) or making
    progress (running a job). Otherwise 503 with one issue per cause."""
    matcher = state.matcher
    issues: list[tuple[str, str]] = []
    try:
        if not state.store.ping():
            issues.append(("database", "unreachable"))
    except StoreUnavailable as err:
        issues.append(("database", err.reason))
    except Exception:  # noqa: BLE001 - any database failure means "not ready"
        issues.append(("database", "unreachable"))
    issues += [(f"jobs.{thread}", reason) for thread, reason in state.jobs.problems()]
    if issues:
        return error_response(503, "not ready: " + "; ".join(f"{f}: {r}" for f, r in issues), issues)
    return Readiness(status="ready", catalog_version=matcher.catalog_version,
                     model_version=matcher.model_version, policies=len(matcher.catalog),
                     database="ok", jobs="ok", loaded_at=matcher.loaded_at, model_error=matcher.model_error)
