"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import StateDep
from api.openapi import errors
from api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses=errors(503),
            summary="Catalog and model loaded, database reachable")
def readyz(state: StateDep) -> Readiness | JSONResponse:
    matcher = state.matcher
    try:
        db_ok = state.store.ping()
    except Exception:  # noqa: BLE001 - any database failure means "not ready"
        db_ok = False
    view = Readiness(status="ready" if db_ok else "not_ready", catalog_version=matcher.catalog_version,
                     model_version=matcher.model_version, policies=len(matcher.catalog),
                     database="ok" if db_ok else "unreachable", loaded_at=matcher.loaded_at,
                     model_error=matcher.model_error)
    if not db_ok:
        return JSONResponse({"detail": "not ready: database unreachable",
                             "issues": [{"field": "database", "reason": "unreachable"}]}, status_code=503)
    return view
