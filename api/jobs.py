"""Background bulk jobs: a small pool of daemon threads running :func:`recommender.bulk.run.run_registry`.

A job's input, output, rejects and checkpoints live under ``<jobs_dir>/<id>/``
(``RECOMMENDER_JOBS_DIR``, default ``<var_dir>/jobs``); its state and counts live in the
store, whose ``jobs`` table is the queue. Jobs survive a restart: a job still ``queued`` is
claimed by the next runner, and one left ``running`` resumes from its last finished chunk
(the batch run's checkpoints). Stopping the service interrupts a running job between two
chunks and puts it back in the queue.

**Claims and leases.** A runner thread claims the oldest queued job in one transaction
(:meth:`Store.claim_next_job`: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional update
on SQLite), under a claim ``host:pid:random`` and a lease of ``lease_seconds``. A heartbeat
thread renews the leases of the jobs this process runs every third of the lease (each
finished chunk renews it too). When a runner dies (its host fails, ``kill -9``), its lease
runs out and the next runner that looks for work — on any host sharing the database and the
jobs directory — claims the job and resumes it from its checkpoints. Progress and the final
state are written only while the claim is still held, so a job ends exactly once even if a
runner that was thought dead comes back: it finds its claim gone and drops the job.

**One runner per ``var`` directory.** Several worker processes may serve one ``var``
directory (``recommender serve --workers N``). Only one of them runs jobs at a time: the
holder of an exclusive lock on ``<var_dir>/.runner.lock`` (:class:`RunnerLock`; the operating
system releases it when that process exits or dies, and another worker takes it over within
``job_poll_seconds``), so a host runs at most ``job_workers`` jobs. Any number of hosts, each
with its own ``var`` directory, share one queue.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import socket
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


class _LeaseLost(Exception):
    """The job's claim is gone (its lease expired and another runner took the job over)."""


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
        Where jobs' files live (with several hosts: a directory they all mount).
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
    lease_seconds : float
        How long a claimed job stays this runner's without a renewal (renewed every third of it).
    lock_path : Path, optional
        The runner lock (one runner per ``var`` directory); default ``<jobs_dir>/.runner.lock``.
    """

    def __init__(self, store: Store, jobs_dir: Path, matcher: Callable[[], Matcher], *,
                 workers: int = 1, chunk_rows: int = 50_000, poll_seconds: float = 1.0,
                 retry_delays: Sequence[float] = RETRY_DELAYS, idle_stall_seconds: float | None = None,
                 busy_stall_seconds: float = 900.0, lease_seconds: float = 30.0,
                 lock_path: Path | None = None) -> None:
        self.store = store
        self.jobs_dir = jobs_dir
        self._matcher = matcher
        self._workers = workers
        self._chunk_rows = chunk_rows
        self._poll = poll_seconds
        self._retry_delays = tuple(retry_delays)
        self.idle_stall_seconds = idle_stall_seconds if idle_stall_seconds is not None else 30 + 10 * poll_seconds
        self.busy_stall_seconds = busy_stall_seconds
        self._lease = lease_seconds
        self.identity = f"{socket.gethostname()}:{os.getpid()}"
        self._lock = RunnerLock(lock_path or jobs_dir / LOCK_NAME)
        self._leading = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._beats: dict[str, _Beat] = {}
        self._given_up: dict[str, str] = {}    # job → claim: jobs to queue again once the store answers
        self._given_up_lock = threading.Lock()
        self._claims: dict[str, str] = {}      # job → claim, for the jobs this process runs now
        self._lost: set[str] = set()           # of those, the ones whose claim a renewal found gone
        self._claims_lock = threading.Lock()
        self._heart: threading.Thread | None = None
        self._periodic: list[tuple[float, Callable[[], object], str]] = []   # every(): issue 24's alerts run

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
        self._heart = threading.Thread(target=self._renew_leases, name="job-lease", daemon=True)
        self._heart.start()
        for every, task, name in self._periodic:
            threading.Thread(target=self._repeat, args=(every, task), name=name, daemon=True).start()

    def every(self, seconds: float, task: Callable[[], object], name: str) -> None:
        """Also run ``task`` every ``seconds`` (first after ``seconds``) on a daemon thread of
        its own, from :meth:`start` until :meth:`stop`; a failure is logged and the next turn
        comes. Every worker process runs it: the task itself makes sure one host at a time
        does the work (the alerts run holds a lease row in the database)."""
        self._periodic.append((seconds, task, name))

    def _repeat(self, seconds: float, task: Callable[[], object]) -> None:
        while not self._stop.wait(seconds):
            try:
                task()
            except Exception:  # noqa: BLE001 - a periodic task never ends its thread
                log.exception("periodic task %s failed; next turn in %.0f s", threading.current_thread().name,
                              seconds)

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
        if self._heart is not None:
            self._heart.join(timeout)
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
        if self._heart is not None and not self._heart.is_alive() and not self._stop.is_set():
            found.append((self._heart.name, "the lease heartbeat has stopped"))
        return found

    def claim_token(self) -> str:
        """A new claim: ``host:pid:random`` (which host and process run the job, and which claim)."""
        return f"{self.identity}:{secrets.token_hex(4)}"

    def _renew_leases(self) -> None:
        """Renew the lease of every job this process runs, every third of the lease, until
        stopped; a claim found gone is marked lost (its thread drops the job at its next chunk)."""
        while not self._stop.wait(self._lease / 3):
            with self._claims_lock:
                claims = dict(self._claims)
            for job_id, claimant in claims.items():
                try:
                    held = self.store.renew_lease(job_id, claimant=claimant, lease_seconds=self._lease)
                except Exception as err:  # noqa: BLE001 - the next beat tries again; the lease may run out
                    log.warning("renewing the lease of job %s failed (%s: %s)", job_id, type(err).__name__, err)
                    continue
                with self._claims_lock:
                    if held or self._claims.get(job_id) != claimant:
                        continue                    # renewed, or the job ended here meanwhile
                    self._lost.add(job_id)
                log.warning("job %s: lease lost (another runner took it over); dropping it", job_id)

    def _beat(self, job_id: str | None) -> None:
        self._beats[threading.current_thread().name] = _Beat(time.monotonic(), job_id)
        JOB_ID.set(job_id)               # the thread's log lines name the job it runs, if any

    def _lead(self) -> bool:
        """Hold the lock; on taking it over, queue again the jobs left running without a lease
        (leased ones are taken over when their lease expires)."""
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
            pending = sorted(self._given_up.items())
        for job_id, claimant in pending:
            self.store.requeue_job(job_id, claimant=claimant)
            with self._given_up_lock:
                self._given_up.pop(job_id, None)
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
        job, claimant = None, self.claim_token()
        try:
            if self._lead():
                self._requeue_given_up()
                matcher = self._matcher()
                job = self.store.claim_next_job(catalog_version=matcher.catalog_version,
                                                model_version=matcher.model_version,
                                                claimant=claimant, lease_seconds=self._lease)
        except Exception:  # noqa: BLE001 - e.g. the database briefly unreachable: try again
            log.exception("looking for queued jobs failed; retrying in %.1f s", self._poll)
        if job is None:
            self._wake.wait(self._poll)
            return
        self._wake.set()                 # more may be queued: let an idle thread look too
        self._beat(job.id)
        log.info("job %s claimed as %s (attempt %d)", job.id, claimant, job.attempts)
        with self._claims_lock:
            self._claims[job.id] = claimant
        try:
            self.run(job, matcher, claimant=claimant)
        except _Stopped:
            self._release(job.id, claimant)
        except _LeaseLost:
            log.warning("job %s dropped: its lease expired and another runner took it over", job.id)
        except Exception:  # noqa: BLE001 - _StoreFailed, or anything else: the job runs again
            log.exception("job %s given up; it is queued again once the database answers", job.id)
            with self._given_up_lock:
                self._given_up[job.id] = claimant
        finally:
            with self._claims_lock:
                self._claims.pop(job.id, None)
                self._lost.discard(job.id)

    def _release(self, job_id: str, claimant: str) -> None:
        """Put a job interrupted by the service stopping back in the queue at once (if that
        fails, its lease runs out and it is taken over all the same)."""
        try:
            self.store.requeue_job(job_id, claimant=claimant)
        except Exception as err:  # noqa: BLE001 - the lease expiry is the fallback
            log.warning("job %s interrupted; putting it back failed (%s), it is taken over when its "
                        "lease runs out", job_id, type(err).__name__)
            return
        log.info("job %s interrupted; it resumes from its checkpoints on the next runner", job_id)

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

    def run(self, job: JobRecord, matcher: Matcher, claimant: str | None = None) -> None:
        """Run one claimed job to completion with ``matcher`` and record the outcome (a
        failure of the job is recorded, not raised; a store that keeps failing raises
        :class:`_StoreFailed`). With ``claimant``, every write is conditional on still
        holding that claim, and a lost claim raises :class:`_LeaseLost` at the next chunk."""
        lease = self._lease if claimant is not None else None

        def progress(rows_done: int, chunks_done: int) -> None:
            self._beat(job.id)
            held = self._retrying("recording progress", job.id, lambda: self.store.record_progress(
                job.id, rows_done=rows_done, chunks_done=chunks_done, claimant=claimant, lease_seconds=lease))
            with self._claims_lock:
                lost = job.id in self._lost
            if not held or lost:
                raise _LeaseLost(job.id)
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
        except (_Stopped, _StoreFailed, _LeaseLost):
            raise
        except (RecommenderError, ModelArtifactError) as err:
            log.warning("job %s failed: %s", job.id, err)
            message = client_message(err, job)
            self._finish(job.id, "failed", lambda: self.store.mark_failed(job.id, error=message, claimant=claimant))
            return
        except Exception as err:  # noqa: BLE001 - a job must end in a recorded state
            log.exception("job %s failed", job.id)
            message = f"internal error: {type(err).__name__}"
            self._finish(job.id, "failed", lambda: self.store.mark_failed(job.id, error=message, claimant=claimant))
            return
        self._finish(job.id, "succeeded", lambda: self.store.mark_succeeded(
            job.id, rows_read=int(summary["rows_read"]), firms_matched=int(summary["firms_matched"]),
            rows_rejected=int(summary["rows_rejected"]), claimant=claimant))

    def _finish(self, job_id: str, state: str, record: Callable[[], bool]) -> None:
        """Record the job's end (``record()``, retried); only the holder of its claim can."""
        if self._retrying(f"recording the {state} state", job_id, record):
            log.info("job %s %s", job_id, state)
        else:
            log.warning("job %s %s here, but its claim was lost: the runner that took it over records "
                        "its end", job_id, state)
