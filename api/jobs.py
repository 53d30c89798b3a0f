"""Background bulk jobs: a small pool of daemon threads running :func:`recommender.bulk.run.run_registry`.

A job's input, output, rejects and checkpoints live under ``<var_dir>/jobs/<id>/``; its state
and counts live in the store. Jobs survive a restart: a job still ``queued`` is claimed by
the next runner, and one left ``running`` (its runner stopped or died) is queued again and
resumes from its last finished chunk (the batch run's checkpoints). Stopping the service
interrupts a running job between two chunks.

Several worker processes may serve one ``var`` directory (``recommender serve --workers N``).
Only one of them runs jobs at a time: the holder of an exclusive lock on
``jobs/.runner.lock`` (:class:`RunnerLock`; the operating system releases it when that
process exits or dies, and another worker takes it over within ``job_poll_seconds``). Its
runner threads claim queued jobs from the store one at a time (a conditional update, so no
job runs twice) — jobs accepted by any worker, woken at once for jobs accepted by its own.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from api.job_messages import client_message
from api.logs import JOB_ID
from recommender import (InputFileError, JobRecord, Matcher, ModelArtifactError, RecommenderError, Store,
                         run_registry)
from recommender import is_reform_job, run_saved_reform

log = logging.getLogger("api.jobs")
RESULT_NAME = "result.csv"
REJECTS_NAME = "rejects.csv"
LOCK_NAME = ".runner.lock"
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Back-off before each retry of a failing store call while running a job (15.5 s in all,
each try itself bounded by the database's lock wait)."""
T = TypeVar("T")


class _Stopped(Exception):
    """Raised from the progress callback to abandon a run when the service stops."""


class _StoreFailed(Exception):
    """A store call still failed after every retry: the job is given up and queued again."""


@dataclass(frozen=True)
class _Beat:
    """A runner thread's last sign of life: when (monotonic seconds), and the job it runs."""

    at: float
    job_id: str | None


class RunnerLock:
    """The right to run the jobs of one ``jobs`` directory: an exclusive ``flock`` on
    ``path``, taken without waiting, held until :meth:`release` or the process ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._mutex = threading.Lock()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """True when this process holds the lock, now or already (``False``: another does)."""
        with self._mutex:
            if self._fd is not None:
                return True
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
            self._fd = fd
            return True

    def release(self) -> None:
        with self._mutex:
            if self._fd is not None:
                os.close(self._fd)          # closing the descriptor releases the lock
                self._fd = None


class JobRunner:
    """Runs queued jobs, ``workers`` at a time, with the matcher current at each job's start.

    No store error ends a runner thread: a failing call is retried with back-off
    (``retry_delays``); when the last retry fails too, the job is given up and queued again
    (it resumes from its checkpoints), and a thread that finds no database keeps looking.
    Each thread leaves a heartbeat on every loop and every finished chunk; :meth:`problems`
    reports a thread that has died, or has not looped for ``idle_stall_seconds`` while idle,
    or has not finished a chunk for ``busy_stall_seconds`` while running a job.

    Parameters
    ----------
    store : Store
    jobs_dir : Path
        Where jobs' files live; holds the runner lock.
    matcher : callable
        The matcher current now (read when a job starts).
    workers : int
        Jobs run at the same time (threads) by the process holding the lock.
    chunk_rows : int
        Rows per checkpointed chunk.
    poll_seconds : float
        How often idle threads look for queued jobs (accepted by another worker process) and
        try to take over the lock.
    retry_delays : sequence of float
        Seconds to wait before each retry of a failing store call while running a job.
    idle_stall_seconds, busy_stall_seconds : float, optional
        Heartbeat age after which a thread counts as stuck, idle (default: 30 s + 10 polls)
        and running a job (default: 15 minutes without finishing a chunk).
    """

    def __init__(self, store: Store, jobs_dir: Path, matcher: Callable[[], Matcher], *,
                 workers: int = 1, chunk_rows: int = 50_000, poll_seconds: float = 1.0,
                 retry_delays: Sequence[float] = RETRY_DELAYS, idle_stall_seconds: float | None = None,
                 busy_stall_seconds: float = 900.0) -> None:
        self.store = store
        self.jobs_dir = jobs_dir
        self._matcher = matcher
        self._workers = workers
        self._chunk_rows = chunk_rows
        self._poll = poll_seconds
        self._retry_delays = tuple(retry_delays)
        self.idle_stall_seconds = idle_stall_seconds if idle_stall_seconds is not None else 30 + 10 * poll_seconds
        self.busy_stall_seconds = busy_stall_seconds
        self._lock = RunnerLock(jobs_dir / LOCK_NAME)
        self._leading = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._beats: dict[str, _Beat] = {}
        self._given_up: set[str] = set()       # jobs to queue again once the store answers
        self._given_up_lock = threading.Lock()

    def job_dir(self, job_id: str) -> Path:
        return self.jobs_dir / job_id

    @property
    def leads(self) -> bool:
        """Whether this runner holds the lock (runs the jobs of its ``var`` directory)."""
        return self._lock.held

    def start(self) -> None:
        """Start the runner threads; the first to find the lock free takes it."""
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        for i in range(self._workers):
            name = f"job-worker-{i}"
            self._beats[name] = _Beat(time.monotonic(), None)
            t = threading.Thread(target=self._work, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def submit(self, job_id: str) -> None:
        """A job was queued in the store: wake an idle thread (the job id is read from the store)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Interrupt running jobs after their current chunk, stop the threads, release the lock
        (kept if a thread is still running a job: the process's exit releases it)."""
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout)
        if not any(t.is_alive() for t in self._threads):
            self._lock.release()

    def problems(self) -> list[tuple[str, str]]:
        """Why the runner is not healthy, as ``(thread, reason)`` pairs (empty: healthy)."""
        found = []
        now = time.monotonic()
        for t in self._threads:
            beat = self._beats[t.name]
            age = now - beat.at
            if not t.is_alive():
                found.append((t.name, "the job thread has stopped"))
            elif beat.job_id is None and age > self.idle_stall_seconds:
                found.append((t.name, f"idle, but has not looked for jobs for {age:.0f} s"))
            elif beat.job_id is not None and age > self.busy_stall_seconds:
                found.append((t.name, f"no progress on job {beat.job_id} for {age:.0f} s"))
        return found

    def _beat(self, job_id: str | None) -> None:
        self._beats[threading.current_thread().name] = _Beat(time.monotonic(), job_id)
        JOB_ID.set(job_id)               # the thread's log lines name the job it runs, if any

    def _lead(self) -> bool:
        """Hold the lock; on taking it over, queue again the jobs a previous holder left running."""
        with self._leading:
            if self._lock.held:
                return True
            if not self._lock.acquire():
                return False
            try:
                requeued = self.store.requeue_running()
            except Exception:
                self._lock.release()         # taken over again (and requeued) at the next try
                raise
            if requeued:
                log.info("resuming %d job(s) left running", requeued)
            return True

    def _requeue_given_up(self) -> None:
        """Queue again the jobs given up after a store failure (kept for the next loop while
        the store still fails)."""
        with self._given_up_lock:
            pending = sorted(self._given_up)
        for job_id in pending:
            self.store.requeue_job(job_id)
            with self._given_up_lock:
                self._given_up.discard(job_id)
            log.info("job %s queued again; it resumes from its checkpoints", job_id)

    def _work(self) -> None:
        while not self._stop.is_set():
            self._beat(None)
            try:
                self._loop_once()
            except Exception:  # noqa: BLE001 - nothing may end the thread: log, wait, loop
                log.exception("job runner loop failed; retrying in %.1f s", self._poll)
                self._wake.wait(self._poll)

    def _loop_once(self) -> None:
        self._wake.clear()
        job = None
        try:
            if self._lead():
                self._requeue_given_up()
                matcher = self._matcher()
                job = self.store.claim_next_job(catalog_version=matcher.catalog_version,
                                                model_version=matcher.model_version)
        except Exception:  # noqa: BLE001 - e.g. the database briefly unreachable: try again
            log.exception("looking for queued jobs failed; retrying in %.1f s", self._poll)
        if job is None:
            self._wake.wait(self._poll)
            return
        self._wake.set()                 # more may be queued: let an idle thread look too
        self._beat(job.id)
        try:
            self.run(job, matcher)
        except _Stopped:
            log.info("job %s interrupted; it resumes at the next start", job.id)
        except Exception:  # noqa: BLE001 - _StoreFailed, or anything else: the job runs again
            log.exception("job %s given up; it is queued again once the database answers", job.id)
            with self._given_up_lock:
                self._given_up.add(job.id)

    def _retrying(self, what: str, job_id: str, call: Callable[[], T]) -> T:
        """``call()``, retried after each of ``retry_delays`` while it raises; then
        :class:`_StoreFailed` (or :class:`_Stopped` if the service stops while waiting)."""
        for delay in (*self._retry_delays, None):
            try:
                return call()
            except Exception as err:
                if delay is None:
                    raise _StoreFailed(f"{what} of job {job_id} failed") from err
                log.warning("%s of job %s failed (%s: %s); retrying in %.1f s", what, job_id,
                            type(err).__name__, err, delay)
            self._beat(job_id)
            if self._stop.wait(delay):
                raise _Stopped(job_id)
        raise AssertionError("unreachable")

    def run(self, job: JobRecord, matcher: Matcher) -> None:
        """Run one claimed job to completion with ``matcher`` and record the outcome (a
        failure of the job is recorded, not raised; a store that keeps failing raises
        :class:`_StoreFailed`)."""

        def progress(rows_done: int, chunks_done: int) -> None:
            self._beat(job.id)
            self._retrying("recording progress", job.id, lambda: self.store.record_progress(
                job.id, rows_done=rows_done, chunks_done=chunks_done))
            if self._stop.is_set():
                raise _Stopped(job.id)

        def attempt(resume: bool) -> dict[str, Any]:
            if is_reform_job(self.job_dir(job.id)):      # a policy-sandbox job (api/routes/reforms.py)
                done = run_saved_reform(self.job_dir(job.id), job.input_path, ref=matcher.ref, as_of=job.as_of,
                                        progress=progress)
                return {**done, "firms_matched": done["firms"]}
            return run_registry(job.input_path, job.output_path, rejects=job.rejects_path,
                                catalog=matcher.catalog, ref=matcher.ref, as_of=job.as_of,
                                ranker=matcher.ranker, top_k=job.top_k, chunk_rows=self._chunk_rows,
                                resume=resume, progress=progress, firm_details=True,
                                threads=1)   # one chunk at a time: requests keep the other core

        try:
            try:
                summary = attempt(resume=True)
            except InputFileError as err:
                if not err.path.endswith(".parts"):
                    raise
                summary = attempt(resume=False)   # checkpoints from another catalog or model
        except (_Stopped, _StoreFailed):
            raise
        except (RecommenderError, ModelArtifactError) as err:
            log.warning("job %s failed: %s", job.id, err)
            message = client_message(err, job)
            self._retrying("recording the failure", job.id,
                           lambda: self.store.mark_failed(job.id, error=message))
            return
        except Exception as err:  # noqa: BLE001 - a job must end in a recorded state
            log.exception("job %s failed", job.id)
            message = f"internal error: {type(err).__name__}"
            self._retrying("recording the failure", job.id,
                           lambda: self.store.mark_failed(job.id, error=message))
            return
        self._retrying("recording the success", job.id, lambda: self.store.mark_succeeded(
            job.id, rows_read=int(summary["rows_read"]), firms_matched=int(summary["firms_matched"]),
            rows_rejected=int(summary["rows_rejected"])))
