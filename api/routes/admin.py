"""Administration: swap in a new catalog and model; read the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import AdminDep, StateDep, StoreDep
from api.errors import ApiError
from api.metrics import MetricsDep
from api.openapi import errors
from api.schemas import AuditView, ReloadResult
from recommender import ModelArtifactError, NotFittedError, RecommenderError, database_down

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=errors(401, 403, 503))


@router.post("/reload", response_model=ReloadResult, responses=errors(409),
             summary="Reload catalog and model atomically")
def reload(caller: AdminDep, state: StateDep, metrics: MetricsDep) -> Any:
    """Loads the configured catalog and model completely, then swaps them in with one
    assignment. Requests already running finish on the old ones; a broken catalog or model
    is refused with 409 naming the file, policy and criterion, and the old ones keep serving."""
    try:
        old, new = metrics.counting_reload(state.reload)
    except (RecommenderError, ModelArtifactError, NotFittedError):
        raise
    except Exception as err:  # noqa: BLE001 - any loading failure is a refused reload, not a crash
        if database_down(err):
            raise                  # recording the reload failed: 503, nothing was swapped
        raise ApiError(409, f"reload refused: {type(err).__name__}: {err}"[:500],
                       [("catalog", "could not be loaded")]) from None
    state.store.audit(key_id=caller.key_id, role=str(caller.role), action="reload",
                      n_firms=0, catalog_version=new.catalog_version, model_version=new.model_version)
    return {"previous_catalog_version": old.catalog_version, "previous_model_version": old.model_version,
            "catalog_version": new.catalog_version, "model_version": new.model_version,
            "policies": len(new.catalog)}


@router.get("/audit", response_model=list[AuditView], summary="The latest audit-log entries, newest first")
def audit(caller: AdminDep, store: StoreDep,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
    """Who (key id), when, which action and policy, how many firms, under which catalog and
    model versions. Never keys, never firms' figures."""
    return [e.__dict__ for e in store.audit_entries(limit=limit)]
