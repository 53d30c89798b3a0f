"""``GET /metrics``: the service's Prometheus metrics (see :mod:`api.metrics`, docs/deploy.md).

Needs an admin key (Prometheus sends it as a bearer token): the service has one port, which
the firms' browsers reach too, and job counts are the service centre's business. Not an API
operation for clients: left out of the OpenAPI document, like ``/docs``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.deps import AdminDep
from api.metrics import MetricsDep

router = APIRouter(tags=["health"], include_in_schema=False)


@router.get("/metrics")
async def metrics(caller: AdminDep, service: MetricsDep) -> Response:
    """Every worker's counts (merged) and the figures read now: jobs, versions, build."""
    body = await run_in_threadpool(service.exposition)      # reads files and the database
    return Response(body, media_type=CONTENT_TYPE_LATEST)
