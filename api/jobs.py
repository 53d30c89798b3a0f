"""Background bulk jobs: a small pool of daemon threads running :func:`recommender.batch.run_registry`.

A job's input, output, rejects and checkpoints live under ``<var_dir>/jobs/<id>/``; its state
and counts live in the store. Jobs survive a restart: at start-up every job still ``queued``
or ``running`` is queued again and resumes from its last finished chunk (the batch run's
checkpoints). Stopping the service interrupts a running job between two chunks.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path

from recommender.batch import run_registry
from recommender.errors import InputFileError, ModelArtifactError, RecommenderError
from recommender.runtime import Matcher
from recommender.store import JobRecord, Store

log = logging.getLogger("api.jobs")
RESULT_NAME = "result.csv"
REJECTS_NAME = "rejects.csv"


class _Stopped(Exception):
    """Raised from the progress callback to abandon a run when the service stops."""


class JobRunner:
    """Runs queued jobs, ``workers`` at a time, with the matcher current at each job's start."""

    def __init__(self, store: Store, jobs_dir: Path, matcher: Callable[[], Matcher], *,
                 workers: int = 1, chunk_rows: int = 50_000) -> None:
        self.store = store
        self.jobs_dir = jobs_dir
        self._matcher = matcher
        self._workers = workers
        self._chunk_rows = chunk_rows
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def job_dir(self, job_id: str) -> Path:
        return self.jobs_dir / job_id

    def start(self) -> None:
        """Start the workers and queue every unfinished job again (restart survival)."""
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        for i in range(self._workers):
            t = threading.Thread(target=self._work, name=f"job-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        for job in self.store.unfinished_jobs():
            self.submit(job.id)

    def submit(self, job_id: str) -> None:
        self._queue.put(job_id)

    def stop(self, timeout: float = 10.0) -> None:
        """Interrupt running jobs after their current chunk and stop the workers."""
        self._stop.set()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout)

    def _work(self) -> None:
        while not self._stop.is_set():
            job_id = self._queue.get()
            if job_id is None:
                return
            job = self.store.get_job(job_id)
            if job is None or job.state in ("succeeded", "failed"):
                continue
            try:
                self.run(job)
            except _Stopped:
                log.info("job %s interrupted; it resumes at the next start", job_id)

    def run(self, job: JobRecord) -> None:
        """Run one job to completion and record the outcome (a failure is recorded, not raised)."""
        matcher = self._matcher()
        self.store.mark_running(job.id, catalog_version=matcher.catalog_version,
                                model_version=matcher.model_version)

        def progress(rows_done: int, chunks_done: int) -> None:
            self.store.record_progress(job.id, rows_done=rows_done, chunks_done=chunks_done)
            if self._stop.is_set():
                raise _Stopped(job.id)

        def attempt(resume: bool) -> dict:  # type: ignore[type-arg]
            return run_registry(job.input_path, job.output_path, rejects=job.rejects_path,
                                catalog=matcher.catalog, ref=matcher.ref, as_of=job.as_of,
                                ranker=matcher.ranker, top_k=job.top_k, chunk_rows=self._chunk_rows,
                                resume=resume, progress=progress,
                                threads=1)   # one chunk at a time: requests keep the other core

        try:
            try:
                summary = attempt(resume=True)
            except InputFileError as err:
                if not err.path.endswith(".parts"):
                    raise
                summary = attempt(resume=False)   # checkpoints from another catalog or model
        except _Stopped:
            raise
        except (RecommenderError, ModelArtifactError) as err:
            self.store.mark_failed(job.id, error=str(err))
            return
        except Exception as err:  # noqa: BLE001 - a job must end in a recorded state
            log.exception("job %s failed", job.id)
            self.store.mark_failed(job.id, error=f"internal error: {type(err).__name__}")
            return
        self.store.mark_succeeded(job.id, rows_read=int(summary["rows_read"]),
                                  firms_matched=int(summary["firms_matched"]),
                                  rows_rejected=int(summary["rows_rejected"]))
