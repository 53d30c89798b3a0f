"""Claims, leases and heartbeats of the shared job queue, on SQLite and PostgreSQL (issue 23, item 3).

Store-level tests fix the store's clock (``Store._clock``) so the lease boundary is tested
at just below, at and just above its expiry; runner-level tests use real time with a short lease.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.jobs import JobRunner
from recommender.matching.runtime import Matcher, load_matcher
from recommender.settings import Settings
from recommender.store import Store, open_store
from tests.api.api_testkit import eventually, make_settings, queue_job
from tests.api.conftest import profiles, registry_csv  # noqa: F401 - fixtures

T0 = dt.datetime(2026, 12, 7, 6, 0, 0, tzinfo=dt.timezone.utc)
US = dt.timedelta(microseconds=1)


@pytest.fixture()
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()


def _queue(store: Store, tmp_path: Path, *ids: str) -> None:
    for i in ids:
        store.create_job(job_id=i, key_id="k", input_name="r.csv", input_path=tmp_path / f"{i}.csv",
                         output_path=tmp_path / f"{i}.out", rejects_path=tmp_path / f"{i}.rej",
                         as_of=dt.date(2022, 6, 30), top_k=3)
        time.sleep(0.001)                                   # created_at orders the queue


def _at(store: Store, when: dt.datetime) -> None:
    """Fix the store's clock at ``when``."""
    store._clock = lambda session: when  # type: ignore[method-assign]


def _claim(store: Store, claimant: str, lease: float | None = 10.0) -> str | None:
    job = store.claim_next_job(catalog_version="c", model_version="m", claimant=claimant, lease_seconds=lease)
    return None if job is None else job.id


def test_a_claim_holds_the_job_until_its_lease_expires(store: Store, tmp_path: Path) -> None:
    _queue(store, tmp_path, "j1")
    _at(store, T0)
    job = store.claim_next_job(catalog_version="c", model_version="m", claimant="host-a:1:aa", lease_seconds=10)
    assert job is not None and (job.state, job.claimed_by, job.attempts) == ("running", "host-a:1:aa", 1)
    assert job.lease_expires_at == T0 + dt.timedelta(seconds=10)
    lease_end = T0 + dt.timedelta(seconds=10)
    for when, expect in ((lease_end - US, None), (lease_end, None), (lease_end + US, "j1")):
        _at(store, when)                                     # below, at, just after the expiry
        assert _claim(store, "host-b:2:bb") == expect, when
    taken = store.get_job("j1")
    assert taken is not None and (taken.claimed_by, taken.attempts, taken.state) == ("host-b:2:bb", 2, "running")


def test_renewing_extends_the_lease_and_only_the_holder_may(store: Store, tmp_path: Path) -> None:
    _queue(store, tmp_path, "j1")
    _at(store, T0)
    assert _claim(store, "a:1:x") == "j1"
    _at(store, T0 + dt.timedelta(seconds=5))
    assert store.renew_lease("j1", claimant="a:1:x", lease_seconds=10)
    assert not store.renew_lease("j1", claimant="b:2:y", lease_seconds=10)
    renewed_end = T0 + dt.timedelta(seconds=15)
    assert store.get_job("j1").lease_expires_at == renewed_end  # type: ignore[union-attr]
    _at(store, renewed_end)
    assert _claim(store, "b:2:y") is None                   # the first lease's end has passed, the renewed one not
    _at(store, renewed_end + US)
    assert _claim(store, "b:2:y") == "j1"
    assert not store.renew_lease("j1", claimant="a:1:x", lease_seconds=10)   # the old holder's claim is gone


def test_progress_renews_the_lease_and_is_refused_after_a_takeover(store: Store, tmp_path: Path) -> None:
    _queue(store, tmp_path, "j1")
    _at(store, T0)
    _claim(store, "a:1:x", lease=3)
    _at(store, T0 + dt.timedelta(seconds=2))
    assert store.record_progress("j1", rows_done=100, chunks_done=1, claimant="a:1:x", lease_seconds=3)
    assert store.get_job("j1").lease_expires_at == T0 + dt.timedelta(seconds=5)  # type: ignore[union-attr]
    _at(store, T0 + dt.timedelta(seconds=6))
    assert _claim(store, "b:2:y", lease=3) == "j1"
    assert not store.record_progress("j1", rows_done=200, chunks_done=2, claimant="a:1:x", lease_seconds=3)
    assert store.get_job("j1").chunks_done == 1              # type: ignore[union-attr]


def test_the_final_state_is_written_once_by_the_holder(store: Store, tmp_path: Path) -> None:
    _queue(store, tmp_path, "j1", "j2")
    _at(store, T0)
    _claim(store, "a:1:x", lease=3)
    _at(store, T0 + dt.timedelta(seconds=4))
    assert _claim(store, "b:2:y", lease=3) == "j1"           # a is thought dead
    assert not store.mark_succeeded("j1", rows_read=9, firms_matched=9, rows_rejected=0, claimant="a:1:x")
    assert not store.mark_failed("j1", error="late", claimant="a:1:x")
    assert store.get_job("j1").state == "running"            # type: ignore[union-attr]
    assert store.mark_succeeded("j1", rows_read=10, firms_matched=8, rows_rejected=2, claimant="b:2:y")
    assert not store.mark_succeeded("j1", rows_read=10, firms_matched=8, rows_rejected=2, claimant="b:2:y")
    done = store.get_job("j1")
    assert done is not None and (done.state, done.rows_read, done.claimed_by, done.lease_expires_at) == \
        ("succeeded", 10, "b:2:y", None)
    _at(store, T0 + dt.timedelta(days=1))
    assert _claim(store, "c:3:z") == "j2"                    # a finished job is never claimable
    assert _claim(store, "c:3:z") is None


def test_requeue_by_claim_and_requeue_running_only_without_a_lease(store: Store, tmp_path: Path) -> None:
    _queue(store, tmp_path, "leased", "bare")
    _at(store, T0)
    assert _claim(store, "a:1:x") == "leased"
    assert _claim(store, "a:1:y", lease=None) == "bare"      # a claim without a lease (older runners)
    assert store.requeue_running() == 1
    assert [store.get_job(i).state for i in ("leased", "bare")] == ["running", "queued"]  # type: ignore[union-attr]
    assert not store.requeue_job("leased", claimant="b:2:z")
    assert store.requeue_job("leased", claimant="a:1:x")
    back = store.get_job("leased")
    assert back is not None and (back.state, back.claimed_by, back.lease_expires_at) == ("queued", None, None)


def test_racing_claimants_get_each_job_once(store: Store, tmp_path: Path) -> None:
    ids = [f"j{i:02d}" for i in range(40)]
    _queue(store, tmp_path, *ids)
    got: Counter[str] = Counter()
    guard = threading.Lock()

    def claim_all(n: int) -> None:
        while (job := _claim(store, f"h:{n}:t", lease=60)) is not None:
            with guard:
                got[job] += 1

    threads = [threading.Thread(target=claim_all, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(got) == ids and set(got.values()) == {1}
    assert {store.get_job(i).attempts for i in ids} == {1}   # type: ignore[union-attr]


def test_postgresql_skips_a_job_locked_by_another_claim(pg_url: str, tmp_path: Path) -> None:
    """FOR UPDATE SKIP LOCKED: a claim does not wait for a row another transaction holds; it takes the next."""
    store = open_store(pg_url)
    _queue(store, tmp_path, "first", "second")
    with Session(store.engine) as other, other.begin():
        assert other.execute(text("SELECT id FROM jobs WHERE id = 'first' FOR UPDATE")).scalar() == "first"
        started = time.monotonic()
        assert _claim(store, "h:1:x") == "second"
        assert time.monotonic() - started < 2
    assert _claim(store, "h:1:y") == "first"
    store.close()


def test_the_reload_generation_is_shared_through_the_database(store_url: str) -> None:
    a, b = open_store(store_url), open_store(store_url)     # two processes' stores on one database
    assert a.reload_generation() == b.reload_generation() == 0
    assert a.record_reload(catalog_version="cat-1", model_version="m-1") == 1
    assert b.reload_generation() == 1
    assert b.record_reload(catalog_version="cat-2", model_version="m-1") == 2
    assert a.reload_generation() == 2
    a.close()
    b.close()


# --- the runner: heartbeat and a lost claim --------------------------------------------------
@pytest.fixture(scope="module")
def rules_matcher() -> Matcher:
    return load_matcher(Settings(rules_only=True))


def _runner_on(store_url: str, tmp_path: Path, registry_csv: Path) -> tuple[Store, Settings]:  # noqa: F811
    settings = make_settings(tmp_path / "var", database_url=store_url, rules_only=True)
    store = open_store(store_url)
    queue_job(store, settings, registry_csv, "slow")
    return store, settings


def test_the_heartbeat_keeps_a_job_whose_chunk_outlasts_the_lease(
        store_url: str, tmp_path: Path, registry_csv: Path, rules_matcher: Matcher) -> None:  # noqa: F811
    store, settings = _runner_on(store_url, tmp_path, registry_csv)
    record, stolen = store.record_progress, []

    def slow_progress(job_id: str, **kwargs: Any) -> bool:
        time.sleep(2.5)                                     # one chunk: 2.5 leases of 1 s
        stolen.append(_claim(store, "thief:9:zz", lease=1))  # the lease is still alive: nothing to take
        return record(job_id, **kwargs)

    store.record_progress = slow_progress  # type: ignore[method-assign]
    runner = JobRunner(store, settings.resolved_jobs_dir(), lambda: rules_matcher, chunk_rows=100,
                       poll_seconds=0.05, lease_seconds=1.0)
    runner.start()
    try:
        assert eventually(lambda: store.get_job("slow").state == "succeeded", timeout=60)  # type: ignore[union-attr]
    finally:
        runner.stop()
    job = store.get_job("slow")
    assert job is not None and job.attempts == 1 and job.claimed_by.startswith(runner.identity + ":")  # type: ignore[union-attr]
    assert stolen and set(stolen) == {None}
    store.close()


def test_a_runner_that_lost_its_claim_drops_the_job_without_ending_it(
        store_url: str, tmp_path: Path, registry_csv: Path, rules_matcher: Matcher) -> None:  # noqa: F811
    store, settings = _runner_on(store_url, tmp_path, registry_csv)
    record, ends = store.record_progress, Counter[str]()
    real_succeeded, took = store.mark_succeeded, threading.Event()

    def taken_over(job_id: str, **kwargs: Any) -> bool:
        # the job is taken over (as after a pause longer than the lease) before this chunk is recorded
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE jobs SET claimed_by = 'other:7:ab' WHERE id = :i"), {"i": job_id})
        took.set()
        return record(job_id, **kwargs)

    def counted(job_id: str, **kwargs: Any) -> bool:
        ends[job_id] += 1
        return real_succeeded(job_id, **kwargs)

    store.record_progress = taken_over  # type: ignore[method-assign]
    store.mark_succeeded = counted  # type: ignore[method-assign]
    runner = JobRunner(store, settings.resolved_jobs_dir(), lambda: rules_matcher, chunk_rows=100,
                       poll_seconds=0.05, lease_seconds=30.0)
    runner.start()
    try:
        assert took.wait(30)
        assert eventually(lambda: not runner._claims, timeout=10)     # dropped: no longer held
        time.sleep(0.3)
    finally:
        runner.stop()
    job = store.get_job("slow")
    assert job is not None and (job.state, job.claimed_by, job.attempts, job.chunks_done) == \
        ("running", "other:7:ab", 1, 0)                      # its chunk was not recorded either
    assert ends == Counter()                                 # it never tried to end the job
    store.close()


def test_stopping_puts_a_running_job_back_in_the_queue_at_once(
        store_url: str, tmp_path: Path, registry_csv: Path, rules_matcher: Matcher) -> None:  # noqa: F811
    store, settings = _runner_on(store_url, tmp_path, registry_csv)
    record, first_chunk = store.record_progress, threading.Event()

    def noted(job_id: str, **kwargs: Any) -> bool:
        first_chunk.set()
        time.sleep(0.2)
        return record(job_id, **kwargs)

    store.record_progress = noted  # type: ignore[method-assign]
    runner = JobRunner(store, settings.resolved_jobs_dir(), lambda: rules_matcher, chunk_rows=5,
                       poll_seconds=0.05, lease_seconds=30.0)
    runner.start()
    assert first_chunk.wait(30)
    runner.stop()                                            # interrupted after this chunk
    job = store.get_job("slow")
    assert job is not None and (job.state, job.claimed_by, job.lease_expires_at, job.attempts) == \
        ("queued", None, None, 1)                            # claimable now, not in 30 s
    assert _claim(store, "next:1:aa") == "slow"
    store.close()
