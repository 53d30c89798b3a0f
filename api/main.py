"""The FastAPI application: ``create_app(settings)`` builds it; the lifespan loads the state.

Run it with ``recommender serve`` (uvicorn, factory ``api.main:create_app``). Settings are
read once here, at the edge (environment variables ``RECOMMENDER_*`` and ``DATABASE_URL``,
see docs/api.md). The catalog, reference tables, ranker and database are opened once in the
lifespan and reach handlers only through :mod:`api.deps`; tests pass their own ``Settings``
or override dependencies with ``app.dependency_overrides``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles

from api.errors import install_error_handlers
from api.jobs import LOCK_NAME, JobRunner
from api.limits import BodySizeLimit
from api.metrics import ServiceMetrics
from api.observe import RequestObserver
from api.openapi import install_openapi
from api.pages import STATIC_DIR
from api.routes import (admin, apidocs, caseworker_auth, caseworker_lists, caseworker_policies, caseworker_records,
                        health, jobs, matches, outcomes, policies, reference, screening, sme)
from api.routes import fairness as fairness_routes
from api.routes import metrics as metrics_route
from api.routes import caseworker_reforms, reforms
from api.security import KeyRing
from api.session import signer_for
from api.state import ServiceState, settle_heap
from recommender import Settings, StoreUnavailable, load_matcher, open_store
from recommender import AlertsConfig, run_alerts
from api.routes import alerts as alerts_routes, subscriptions

log = logging.getLogger("api")
API_VERSION = "1.0.0"

DESCRIPTION = """\
Matches Chinese enterprise support policies to firms (SPEC §5 results), screens applicants
for caseworkers, runs bulk registry jobs and records application outcomes.

**Keys and roles.** Send an API key in `X-API-Key` (or `Authorization: Bearer`). Roles:
`public` (match, policies) < `caseworker` (screen, jobs, outcomes) < `admin` (reload, audit).
Public endpoints need no key unless `RECOMMENDER_PUBLIC_REQUIRES_KEY=true`; a key that is sent
must be valid. Development keys (only while `RECOMMENDER_API_KEYS` is unset):
`dev-public-key`, `dev-caseworker-key`, `dev-admin-key`.

**Errors** are JSON `{"detail", "issues": [{"field", "reason"}]}` with the field path; 503
(field `database`) when the database is unavailable: nothing was stored, try again.

**Jobs** belong to the key that created them (an admin key sees every job).
"""
TAGS = [
    {"name": "match", "description": "One firm, or up to 1,000, → ranked and explained policies."},
    {"name": "screening", "description": "Caseworkers: many applicants against one policy."},
    {"name": "policies", "description": "Browse and search the catalog."},
    {"name": "jobs", "description": "Bulk registry runs in the background; they survive restarts."},
    {"name": "reference", "description": "Region and industry codes from names, pinyin or code prefixes (SPEC §8)."},
    {"name": "outcomes", "description": "Application outcomes: feedback for training."},
    {"name": "admin", "description": "Atomic catalog/model reload; audit log."},
    {"name": "health", "description": "Liveness and readiness."},
    {"name": "subscriptions", "description": "Alerts to subscribed firms (SPEC §10); the caseworker's outreach list."},
]
TAGS.append({"name": "reforms", "description": "Policy sandbox: what a rule change would do across a registry (SPEC §9)."})


async def _follow_reloads(state: ServiceState, every: float) -> None:
    """Swap in what another process reloaded (the database's reload generation, read every
    ``every`` seconds). A database that does not answer is logged once, not at every check."""
    failing = False
    while True:
        await asyncio.sleep(every)
        try:
            if await run_in_threadpool(state.reload_pending):     # a database read: off the event loop
                await run_in_threadpool(state.follow_reload)
        except Exception as err:  # noqa: BLE001 - the check runs for the service's lifetime
            if not failing:
                log.warning("checking for a reload by another process failed (%s: %s); retrying every %.1f s",
                            type(err).__name__, str(err).splitlines()[0][:200] if str(err) else "", every)
            failing = True
        else:
            if failing:
                log.info("checking for reloads by other processes works again")
            failing = False


async def _refresh_gauges(metrics: ServiceMetrics, every: float) -> None:
    """Keep this worker's job-runner gauges current (every ``every`` seconds) for the scrapes
    another worker answers."""
    while True:
        await asyncio.sleep(every)
        metrics.refresh_runner()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; nothing is loaded until the lifespan starts.

    Parameters
    ----------
    settings : Settings, optional
        Default: read from the environment now.
    """
    cfg = settings if settings is not None else Settings()
    metrics = ServiceMetrics(api_version=API_VERSION)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:                                            # first: a database behind the schema stops the start
            store = await run_in_threadpool(open_store, cfg.resolved_database_url())
        except StoreUnavailable as err:
            log.critical("not starting: %s", err)
            raise
        generation = await run_in_threadpool(store.reload_generation)     # read before loading
        matcher = await run_in_threadpool(lambda: load_matcher(cfg, model_fallback=True, one_firm=True))
        if matcher.model_error:
            log.error("model not loaded, ranking by rules-v1: %s", matcher.model_error)
        runner = JobRunner(store, cfg.resolved_jobs_dir(), lambda: app.state.service.matcher,
                           workers=cfg.job_workers, chunk_rows=cfg.job_chunk_rows,
                           poll_seconds=cfg.job_poll_seconds, lease_seconds=cfg.job_lease_seconds,
                           lock_path=cfg.var_dir / LOCK_NAME)
        keys = KeyRing(cfg.key_roles())
        state = app.state.service = ServiceState(settings=cfg, keys=keys, matcher=matcher, store=store, jobs=runner,
                                                 sessions=signer_for(cfg, keys), loaded_generation=generation)
        if cfg.alerts_every_seconds > 0:          # issue 24: alerts run, one host at a time (a lease row)
            runner.every(cfg.alerts_every_seconds, lambda: run_alerts(
                store, app.state.service.matcher, AlertsConfig.from_settings(cfg)), "alerts-run")
        runner.start()
        follower = asyncio.create_task(_follow_reloads(state, cfg.reload_poll_seconds))
        metrics.attach(state)
        gauges = asyncio.create_task(_refresh_gauges(metrics, cfg.reload_poll_seconds))
        settle_heap()
        log.info("ready: catalog %s (%d policies), model %s", matcher.catalog_version,
                 len(matcher.catalog), matcher.model_version)
        if cfg.api_keys is None:
            log.warning("the development API keys are active (RECOMMENDER_API_KEYS is unset): anyone "
                        "who has read docs/api.md holds the admin key; set RECOMMENDER_API_KEYS")
        try:
            yield
        finally:
            gauges.cancel()
            metrics.detach()
            follower.cancel()
            # a database read of either task may be running in a thread (cancelled only once it
            # returns): wait for it, so the store is not closed under it and no connection is left
            await asyncio.gather(gauges, follower, return_exceptions=True)
            runner.stop()
            store.close()

    app = FastAPI(title="Enterprise policy recommender", version=API_VERSION, description=DESCRIPTION,
                  openapi_tags=TAGS, lifespan=lifespan, docs_url=None, redoc_url=None)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_body_bytes=cfg.max_body_bytes,
                       max_upload_bytes=cfg.max_upload_bytes)
    for module in (matches, screening, policies, reference, jobs, outcomes, admin, health, apidocs, sme,
                   caseworker_auth, caseworker_lists, caseworker_records, caseworker_policies):
        app.include_router(module.router)
    app.include_router(fairness_routes.router)
    app.include_router(reforms.router)
    app.include_router(caseworker_reforms.router)
    for module in (subscriptions, alerts_routes):          # issue 24
        app.include_router(module.router)
    caseworker_auth.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(apidocs.ASSETS_URL, StaticFiles(directory=apidocs.ASSETS_DIR), name="apidocs-assets")
    install_openapi(app)
    app.include_router(metrics_route.router)
    app.state.metrics = metrics
    app.add_middleware(RequestObserver, metrics=metrics)     # added last: the outermost
    return app
