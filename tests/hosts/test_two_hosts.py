"""Two hosts, one queue (issue 23, item 3): two ``recommender serve`` processes with different
``var`` directories, one PostgreSQL database and one shared jobs directory.

A trigger (test-only, in the test's own database) logs every change of a job's state with the
claim and the database's time, so claims and finished states are counted by the database,
not by the service under test.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from recommender.store import open_store
from tests.api.api_testkit import AS_OF, KEYS, ROOT, free_port, registry_frame
from tests.api.conftest import profiles  # noqa: F401 - fixture

LEASE_SECONDS = 3.0
POLL_SECONDS = 0.2
TRANSITIONS = """
CREATE TABLE job_transitions (job_id text, state text, claimed_by text, at timestamptz DEFAULT clock_timestamp());
CREATE FUNCTION log_job_transition() RETURNS trigger AS $$
BEGIN
  INSERT INTO job_transitions (job_id, state, claimed_by) VALUES (NEW.id, NEW.state, NEW.claimed_by);
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER job_transitions AFTER UPDATE ON jobs FOR EACH ROW
  WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.claimed_by IS DISTINCT FROM NEW.claimed_by)
  EXECUTE FUNCTION log_job_transition();
"""


class Service:
    """``recommender serve`` in a process of its own, on a free port, with its own ``var``."""

    def __init__(self, name: str, var_dir: Path, jobs_dir: Path, database_url: str) -> None:
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = var_dir / "service.log"
        var_dir.mkdir(parents=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECOMMENDER_") and k != "DATABASE_URL"}
        env.update({"PYTHONPATH": str(ROOT), "RECOMMENDER_VAR_DIR": str(var_dir), "RECOMMENDER_JOBS_DIR": str(jobs_dir),
                    "RECOMMENDER_DATABASE_URL": database_url, "RECOMMENDER_RULES_ONLY": "true",
                    "RECOMMENDER_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
                    "RECOMMENDER_JOB_POLL_SECONDS": str(POLL_SECONDS), "RECOMMENDER_JOB_CHUNK_ROWS": "100"})
        self._log: IO[bytes] = self.log_path.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "recommender.cli.main", "serve", "--port", str(self.port)],
                                     env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=var_dir)

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout} s")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-API-Key": KEYS["caseworker"]}, timeout=60)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@pytest.fixture()
def two_hosts(pg_url: str, tmp_path: Path) -> Iterator[tuple[Service, Service, str]]:
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text(TRANSITIONS))
    engine.dispose()
    shared = tmp_path / "shared-jobs"
    with ExitStack() as stack:
        hosts = []
        for name in ("host-a", "host-b"):
            svc = Service(name, tmp_path / name / "var", shared, pg_url)
            stack.callback(svc.stop)
            hosts.append(svc)
        for svc in hosts:
            svc.wait_ready()
        yield hosts[0], hosts[1], pg_url


def _submit(client: httpx.Client, path: Path) -> str:
    r = client.post("/v1/jobs", params={"as_of": AS_OF, "top_k": 3},
                    files={"file": (path.name, path.read_bytes(), "text/csv")})
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def _transitions(url: str) -> list[dict[str, Any]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text(
            "SELECT job_id, state, claimed_by, extract(epoch FROM at) AS at FROM job_transitions ORDER BY at"))]
    engine.dispose()
    return rows


def _states(url: str, ids: list[str]) -> dict[str, str]:
    store = open_store(url)
    try:
        return {i: store.get_job(i).state for i in ids}  # type: ignore[union-attr]
    finally:
        store.close()


def _checkpoints(output: Path) -> dict[str, tuple[int, int]]:
    """The checkpoint files of a job writing ``output`` (not temporaries): name → (inode, mtime)."""
    parts = output.with_name(output.name + ".parts")
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in parts.iterdir()
            if not p.name.startswith(".")} if parts.is_dir() else {}


def _wait_finished(url: str, ids: list[str], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        states = _states(url, ids)
        if set(states.values()) <= {"succeeded", "failed"} or time.monotonic() > deadline:
            return states
        time.sleep(0.2)


@pytest.mark.slow
def test_forty_jobs_on_two_hosts_each_run_once_and_a_killed_host_is_taken_over(
        two_hosts: tuple[Service, Service, str], tmp_path: Path, profiles: list[dict[str, Any]]) -> None:  # noqa: F811
    a, b, url = two_hosts
    small = tmp_path / "small.csv"
    registry_frame(profiles).to_csv(small, index=False)
    with a.client() as ca, b.client() as cb:
        # --- 40 small jobs, submitted to either host, each claimed and finished exactly once ------
        ids = [_submit(ca if i % 2 == 0 else cb, small) for i in range(40)]
        states = _wait_finished(url, ids, timeout=240)
        assert Counter(states.values()) == {"succeeded": 40}
        moves = [t for t in _transitions(url) if t["job_id"] in ids]
        claims = Counter(t["job_id"] for t in moves if t["state"] == "running")
        ends = Counter(t["job_id"] for t in moves if t["state"] in ("succeeded", "failed"))
        assert claims == ends == Counter({i: 1 for i in ids})          # duplicates: 0
        n_claims, n_ends = sum(claims.values()), sum(ends.values())
        by_host = Counter(t["claimed_by"].split(":")[1] for t in moves if t["state"] == "succeeded")
        assert set(by_host) == {str(a.proc.pid), str(b.proc.pid)}, by_host   # both hosts ran jobs
        # results are on the shared directory, readable through either host
        assert ca.get(f"/v1/jobs/{ids[1]}/result").text == cb.get(f"/v1/jobs/{ids[0]}/result").text

        # --- a host killed mid-job: the other takes the job over after the lease and finishes it ---
        big = tmp_path / "big.csv"
        rows = [{**p, "firm_id": f"{p['firm_id']}-{n:03d}"} for n in range(150) for p in profiles]
        registry_frame(rows).to_csv(big, index=False)
        job_id = _submit(ca, big)
        store = open_store(url)
        try:
            deadline = time.monotonic() + 120
            while (job := store.get_job(job_id)) is None or job.chunks_done < 2:
                assert job is None or job.state in ("queued", "running"), job
                assert time.monotonic() < deadline, "the big job never got going"
                time.sleep(0.05)
            assert job.state == "running" and job.claimed_by is not None
            victim, survivor = (a, b) if job.claimed_by.split(":")[1] == str(a.proc.pid) else (b, a)
            killed_at, chunks_at_kill = time.time(), job.chunks_done
            os.kill(victim.proc.pid, signal.SIGKILL)
            victim.proc.wait(10)
            checkpoints = _checkpoints(job.output_path)
            assert len(checkpoints) >= chunks_at_kill           # the finished chunks' parts (and the manifest)
            deadline = time.monotonic() + 60
            while (now := store.get_job(job_id)) is not None and now.state == "running" and not (
                    now.attempts == 2 and now.chunks_done >= chunks_at_kill + 2):
                assert time.monotonic() < deadline, "nobody took the job over"
                time.sleep(0.05)
            assert now is not None and now.state == "running", now
            # resumed, not restarted: the parts the killed host finished stand, untouched
            assert {k: v for k, v in _checkpoints(job.output_path).items() if k in checkpoints} == checkpoints
            finished = _wait_finished(url, [job_id], timeout=180)
            assert finished == {job_id: "succeeded"}
            done = store.get_job(job_id)
        finally:
            store.close()
        assert done is not None and done.attempts == 2 and done.rows_read == len(rows)
        assert done.claimed_by is not None and done.claimed_by.split(":")[1] == str(survivor.proc.pid)
        moves = [t for t in _transitions(url) if t["job_id"] == job_id]
        claims = [t for t in moves if t["state"] == "running" and t["claimed_by"]]
        ends = [t for t in moves if t["state"] in ("succeeded", "failed")]
        assert len(claims) == 2 and len(ends) == 1
        takeover = float(claims[1]["at"]) - killed_at
        finish = float(ends[0]["at"]) - killed_at
        assert takeover <= LEASE_SECONDS + POLL_SECONDS + 2.0, takeover
        # resumed from its checkpoints: every firm once, none lost or doubled
        with open(done.output_path, newline="", encoding="utf-8") as fh:
            result = list(csv.DictReader(fh))
        firms = {r["firm_id"] for r in result}
        assert firms == {r["firm_id"] for r in rows}
        assert len({(r["firm_id"], r["policy_id"]) for r in result}) == len(result)
        print(f"\ntwo hosts: 40 jobs, {n_claims} claims, {n_ends} finished states, duplicates 0, "
              f"finished by host (pid) {dict(by_host)}; kill -9 at chunk {chunks_at_kill} of {-(-len(rows) // 100)}: "
              f"taken over {takeover:.2f} s after (lease {LEASE_SECONDS:.0f} s, poll {POLL_SECONDS} s), "
              f"finished {finish:.2f} s after")
