"""Prometheus metrics of the service (``GET /metrics``, :mod:`api.routes.metrics`).

One :class:`ServiceMetrics` per application (made by ``create_app``, kept on
``app.state.metrics``): no module-level metric, so two apps in one process (the tests) count
apart. Two kinds of figures:

* **counted as they happen** (:class:`prometheus_client` metrics): request latency by route
  template, method and status (its ``_count`` is the request count); reloads by source and
  outcome; whether this process's job-runner threads are alive and whether it holds the job
  lock (refreshed every ``reload_poll_seconds`` and at each scrape).
* **read at scrape time** (:class:`_ScrapeCollector`): jobs by state and the rows of finished
  jobs, matched and rejected, from the database (so every worker and host reports the same
  totals, and they survive restarts); the catalog and model versions the answering worker
  serves; build information; whether the database answered.

Several worker processes (``recommender serve --workers N``): ``serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at ``<var_dir>/metrics`` (emptied at start) before any worker
imports :mod:`prometheus_client`; each worker then writes its counts to its own files there,
and the worker that answers a scrape merges every worker's files
(:class:`prometheus_client.multiprocess.MultiProcessCollector`). A worker marks itself dead
(its live gauges removed) when it stops; one that was killed is marked at the next scrape.
"""

from __future__ import annotations

import glob
import logging
import os
import platform
import re
from collections.abc import Callable, Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import psutil
from fastapi import Depends, Request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

if TYPE_CHECKING:
    from api.state import ServiceState

log = logging.getLogger("api")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Seconds: a match is served in a few milliseconds, an upload or a screening file in seconds."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"
"""The ``route`` label of a request no route matched (a 404 for an unknown path): raw paths
never become labels, so a scan of random URLs cannot grow the series."""
JOB_STATES = ("queued", "running", "succeeded", "failed")
"""The store's job states (``JobState``), each reported even when no job is in it."""
T = TypeVar("T")
OutcomeCounter = Callable[[str], None]
"""Counts one event by its outcome (``succeeded`` or ``failed``)."""
_LIVE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db")


def package_version() -> str:
    """The installed version of this project (``unknown`` when run from a bare checkout)."""
    try:
        return metadata.version("enterprise-policy-recommender")
    except metadata.PackageNotFoundError:
        return "unknown"


def method_label(method: str) -> str:
    """``method`` if it is a standard HTTP method, else ``other`` (labels stay few)."""
    return method if method in METHODS else "other"


def multiprocess_dir() -> Path | None:
    """The directory of multiprocess mode, or ``None`` (one process: counts kept in memory).

    Raises
    ------
    RuntimeError
        ``PROMETHEUS_MULTIPROC_DIR`` is set, but :mod:`prometheus_client` was imported before
        it was (its counts would stay in this process's memory and scrapes would miss them).
    """
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return None
    if values.ValueClass is values.MutexValue:
        raise RuntimeError(f"{MULTIPROC_ENV} was set after prometheus_client was imported: "
                           "set it before the service starts (recommender serve does)")
    return Path(path)


class ServiceMetrics:
    """The service's metrics; ``api_version`` is the application's version (build info).

    Parameters
    ----------
    api_version : str
    multiproc_dir : Path, optional
        Multiprocess mode's directory (default: :func:`multiprocess_dir`, from the environment).
    """

    def __init__(self, api_version: str, multiproc_dir: Path | None = None) -> None:
        self.multiproc_dir = multiproc_dir if multiproc_dir is not None else multiprocess_dir()
        self.build = {"version": package_version(), "api_version": api_version, "python": platform.python_version()}
        # in multiprocess mode the values live in files, collected by MultiProcessCollector
        self._own = CollectorRegistry()
        registry = None if self.multiproc_dir is not None else self._own
        self.requests = Histogram(
            "recommender_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status (_count: requests)",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=registry)
        self.reloads = Counter(
            "recommender_reloads", "Catalog and model reloads by source (admin: POST /v1/admin/reload; "
            "follow: after another worker's) and outcome (succeeded, failed)",
            ["source", "outcome"], registry=registry)
        self.runner_alive = Gauge(
            "recommender_job_runner_alive", "1 when every job-runner thread of the worker is alive and "
            "looping or making progress (as /readyz), else 0", multiprocess_mode="liveall", registry=registry)
        self.runner_leading = Gauge(
            "recommender_job_runner_leading", "1 on the worker holding the job lock (it runs the jobs)",
            multiprocess_mode="liveall", registry=registry)
        self._observers: dict[tuple[str, str, int], Callable[[float], None]] = {}
        self._state: ServiceState | None = None
        self._own.register(_ScrapeCollector(self))

    # --- counting ------------------------------------------------------------------------
    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request (``method``: a :func:`method_label`; ``route``: the
        template, or :data:`UNMATCHED_ROUTE`)."""
        key = (method, route, status)
        observe = self._observers.get(key)
        if observe is None:
            observe = self._observers[key] = self.requests.labels(method, route, str(status)).observe
        observe(seconds)

    def counting_reload(self, reload: Callable[[], T]) -> T:
        """``reload()`` (``POST /v1/admin/reload``'s), counted as succeeded, or as failed when
        it raises (re-raised)."""
        try:
            result = reload()
        except Exception:
            self.reloads.labels("admin", "failed").inc()
            raise
        self.reloads.labels("admin", "succeeded").inc()
        return result

    def count_follow(self, outcome: str) -> None:
        """Count one reload followed from another process: ``succeeded`` or ``failed``."""
        self.reloads.labels("follow", outcome).inc()

    def attach(self, state: ServiceState) -> None:
        """Read the loaded state from now on (versions, database, job runner) and count the
        reloads it follows."""
        self._state = state
        state.count_follow = self.count_follow
        self.refresh_runner()

    def refresh_runner(self) -> None:
        """Set the job-runner gauges from this worker's runner."""
        state = self._state
        if state is None:
            return
        self.runner_alive.set(0 if state.jobs.problems() else 1)
        self.runner_leading.set(1 if state.jobs.leads else 0)

    def detach(self) -> None:
        """The worker stops: its live gauges go (multiprocess mode) and the state is let go."""
        self._state = None
        if self.multiproc_dir is not None:
            _mark_dead(os.getpid(), self.multiproc_dir)

    # --- scraping ------------------------------------------------------------------------
    def exposition(self) -> bytes:
        """Every metric in Prometheus' text format (every worker's, in multiprocess mode)."""
        self.refresh_runner()
        if self.multiproc_dir is None:
            return generate_latest(self._own)
        self._forget_dead_workers()
        registry = CollectorRegistry()
        MultiProcessCollector(registry, str(self.multiproc_dir))  # type: ignore[no-untyped-call]  # prometheus_client leaves it untyped
        registry.register(_ScrapeCollector(self))
        return generate_latest(registry)

    def _forget_dead_workers(self) -> None:
        """Mark dead the workers whose live gauges are still there though their process is
        gone (killed: it could not mark itself), so they stop counting as alive."""
        assert self.multiproc_dir is not None
        pids = {int(m.group(1)) for f in glob.glob(str(self.multiproc_dir / "gauge_live*.db"))
                if (m := _LIVE_FILE.fullmatch(Path(f).name))}
        for pid in pids:
            if not _process_exists(pid):
                _mark_dead(pid, self.multiproc_dir)

    def scraped(self) -> Iterator[Metric]:
        """The figures read at scrape time (see the module docstring)."""
        yield _info("recommender_build", "The running code", self.build)
        state = self._state
        if state is None:
            return
        matcher = state.matcher
        yield _info("recommender_serving", "The catalog and model this worker serves",
                    {"catalog_version": matcher.catalog_version, "model_version": matcher.model_version})
        up = GaugeMetricFamily("recommender_database_up", "1 when the database answered this scrape's queries")
        try:
            tallies = state.store.job_tallies()
        except Exception:  # noqa: BLE001 - a scrape reports a database down, it does not fail
            log.warning("metrics: the database did not answer; job figures left out")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        jobs = GaugeMetricFamily("recommender_jobs", "Jobs in the database by state", labels=["state"])
        counts = {state: 0 for state in JOB_STATES} | {t.state: t.jobs for t in tallies}
        for name, n in counts.items():
            jobs.add_metric([name], n)
        yield jobs
        rows = CounterMetricFamily("recommender_job_rows", "Registry rows of succeeded jobs: matched "
                                   "(accepted and matched) or rejected (bad input)", labels=["outcome"])
        rows.add_metric(["matched"], sum(t.firms_matched for t in tallies))
        rows.add_metric(["rejected"], sum(t.rows_rejected for t in tallies))
        yield rows


class _ScrapeCollector:
    """Adapts :meth:`ServiceMetrics.scraped` to a collector a registry can hold."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self._metrics.scraped()


def _info(name: str, documentation: str, labels: dict[str, str]) -> InfoMetricFamily:
    family = InfoMetricFamily(name, documentation)
    family.add_metric([], labels)
    return family


def _mark_dead(pid: int, path: Path) -> None:
    """Remove the live gauges of worker ``pid`` (its counters and histograms stay counted)."""
    mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]  # prometheus_client leaves it untyped


def _process_exists(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, killed but not yet reaped by uvicorn's
    supervisor, does not)."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


async def get_metrics(request: Request) -> ServiceMetrics:
    """The application's metrics (a dependency)."""
    metrics: ServiceMetrics = request.app.state.metrics
    return metrics


MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]
