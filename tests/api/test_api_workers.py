"""Several worker processes on one var/ directory (``recommender serve --workers N``).

Each worker is an app of its own here (two live servers in one process, sharing settings,
var/ and database): the job lock is an ``flock`` per open file, so two apps of one process
contend for it exactly as two processes do.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from .api_testkit import KEYS, LiveServer, eventually, make_settings, queue_job, submit_job, wait_job

from api.jobs import JobRunner, RunnerLock
from api.main import create_app
from recommender.matching.runtime import load_matcher
from recommender.store import open_store
from tests import db_kit

CASEWORKER = {"X-API-Key": KEYS["caseworker"]}
ADMIN = {"X-API-Key": KEYS["admin"]}


def _leads(srv: LiveServer) -> bool:
    return bool(srv.server.config.app.state.service.jobs.leads)


def test_runner_lock_is_held_by_one_holder_at_a_time(tmp_path: Path) -> None:
    first, second = RunnerLock(tmp_path / "lock"), RunnerLock(tmp_path / "lock")
    assert first.acquire() and first.acquire()          # taken, and held again without waiting
    assert not second.acquire()
    first.release()
    assert not first.held
    assert second.acquire() and not first.acquire()
    second.release()


def test_racing_claims_give_each_job_to_one_runner(tmp_path: Path) -> None:
    store = open_store(db_kit.fresh_url(tmp_path, "jobs.db"))
    ids = [store.create_job(key_id="k", input_name="r.csv", input_path=tmp_path / f"{i}.csv",
                            output_path=tmp_path / f"{i}.out", rejects_path=tmp_path / f"{i}.rej",
                            as_of=dt.date(2022, 6, 30), top_k=3).id for i in range(40)]
    claimed: list[str] = []
    guard = threading.Lock()

    def claim_all() -> None:
        while (job := store.claim_next_job(catalog_version="c", model_version="m")) is not None:
            with guard:
                claimed.append(job.id)

    threads = [threading.Thread(target=claim_all) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)                # every job once, none twice
    assert {store.get_job(i).attempts for i in ids} == {1}  # type: ignore[union-attr]
    assert store.requeue_running() == 40 and store.get_job(ids[0]).state == "queued"  # type: ignore[union-attr]
    store.close()


def test_two_workers_run_every_job_once(tmp_path: Path, registry_csv: Path, profiles: list[dict[str, Any]]) -> None:
    settings = make_settings(tmp_path / "var", rules_only=True, job_poll_seconds=0.1)
    store = open_store(settings.resolved_database_url())     # queued before either worker starts
    queue_job(store, settings, registry_csv, "early")
    with LiveServer(create_app(settings)) as a, LiveServer(create_app(settings)) as b, \
            a.client() as ca, b.client() as cb:
        ca.headers.update(CASEWORKER)
        cb.headers.update(CASEWORKER)
        ids = ["early"] + [submit_job(c, registry_csv)["id"] for c in (ca, cb, ca, cb)]
        done = [wait_job(cb, i) for i in ids]                # any worker answers for any job
        assert [d["state"] for d in done] == ["succeeded"] * 5
        assert {d["firms_matched"] for d in done} == {len(profiles)}
        assert _leads(a) != _leads(b)                     # one runner for the var/ directory
        results = {ca.get(d["result_url"]).text for d in done}
        assert len(results) == 1
    assert [store.get_job(i).attempts for i in ids] == [1] * 5  # type: ignore[union-attr]
    store.close()


def test_another_worker_takes_over_the_jobs_when_the_runner_stops(tmp_path: Path, registry_csv: Path) -> None:
    settings = make_settings(tmp_path / "var", rules_only=True, job_poll_seconds=0.1)
    # a job left running by a runner whose process died mid-job
    store = open_store(settings.resolved_database_url())
    queue_job(store, settings, registry_csv, "orphan")
    assert store.claim_next_job(catalog_version="old", model_version="old") is not None
    survivor = ExitStack()
    with LiveServer(create_app(settings)) as a, a.client() as ca:
        ca.headers.update(CASEWORKER)
        assert eventually(lambda: _leads(a))
        orphan = wait_job(ca, "orphan")                      # queued again by the new lock holder
        assert orphan["state"] == "succeeded" and orphan["catalog_version"] != "old"
        b = survivor.enter_context(LiveServer(create_app(settings)))
        time.sleep(0.3)
        assert not _leads(b)
    with survivor, b.client() as cb:                      # a has stopped: b takes the jobs over
        cb.headers.update(CASEWORKER)
        fresh = wait_job(cb, submit_job(cb, registry_csv)["id"])
        assert fresh["state"] == "succeeded" and _leads(b)
    assert store.get_job("orphan").attempts == 2         # type: ignore[union-attr]
    assert store.get_job(fresh["id"]).attempts == 1      # type: ignore[union-attr]
    store.close()


def test_a_reload_reaches_every_worker_and_a_refused_one_none(tmp_path: Path, catalog_copy: Path) -> None:
    settings = make_settings(tmp_path / "var", catalog_dir=catalog_copy, rules_only=True, reload_poll_seconds=0.1)
    with LiveServer(create_app(settings)) as a, LiveServer(create_app(settings)) as b, \
            a.client() as ca, b.client() as cb:
        def version(c: Any) -> str:
            return str(c.get("/readyz").json()["catalog_version"])

        before = version(ca)
        assert version(cb) == before
        sorted(catalog_copy.rglob("*.yaml"))[0].unlink()
        r = ca.post("/v1/admin/reload", headers=ADMIN)
        assert r.status_code == 200, r.text
        after = r.json()["catalog_version"]
        assert after != before and version(ca) == after
        assert eventually(lambda: version(cb) == after)
        # a refused reload changes no worker
        (catalog_copy / "relief" / "zz-broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
        assert cb.post("/v1/admin/reload", headers=ADMIN).status_code == 409
        time.sleep(0.5)
        assert version(ca) == after and version(cb) == after


def test_a_failing_store_does_not_stop_the_runner(tmp_path: Path, registry_csv: Path) -> None:
    settings = make_settings(tmp_path / "var", rules_only=True)
    store = open_store(settings.resolved_database_url())
    queue_job(store, settings, registry_csv, "later")
    claim, failures = store.claim_next_job, []

    def flaky(**kwargs: str) -> Any:
        if len(failures) < 2:
            failures.append(1)
            raise OSError("database unreachable")
        return claim(**kwargs)

    store.claim_next_job = flaky  # type: ignore[method-assign]
    matcher = load_matcher(settings)
    runner = JobRunner(store, settings.var_dir / "jobs", lambda: matcher, poll_seconds=0.05)
    runner.start()
    try:
        assert eventually(lambda: store.get_job("later").state == "succeeded")  # type: ignore[union-attr]
    finally:
        runner.stop()
    assert len(failures) == 2 and not runner.leads       # stop() released the lock
    store.close()
