"""Service faults (issue 17, items 2, 6, 9 and 11): a store that fails under the job runner, a
dead or stuck runner thread, an unreachable or locked database, a deleted SQLite file, jobs
read by another caseworker, server paths and rows in job errors, a binary catalog file, a NUL
in an upload's name, and the audit of downloads and outcome exports and imports.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from api.jobs import JobRunner
from api.main import create_app
from recommender.cli.main import app as cli_app
from recommender.matching.runtime import Matcher, load_matcher
from recommender.settings import Settings, hash_key
from recommender.store import SQLITE_BUSY_MS, SchemaOutOfDate, Store, open_store
from tests import db_kit
from tests.api.api_testkit import AS_OF, KEYS, LiveServer, make_settings
from tests.api.conftest import profile, profiles, registry_csv  # noqa: F401 - fixtures
from tests.api.api_testkit import eventually, queue_job, submit_job, wait_job

CSV = "text/csv"
CASEWORKER = {"X-API-Key": KEYS["caseworker"]}
ADMIN = {"X-API-Key": KEYS["admin"]}
OUTCOME = [{"firm_id": "CQ-001", "policy_id": "cn-tech-sme-evaluation", "event_date": "2022-05-20",
            "outcome": "approved"}]


def _down() -> OperationalError:
    return OperationalError("UPDATE jobs …", {}, sqlite3.OperationalError("database is locked"))


# --- the job runner under a failing store ---------------------------------------------------
class FlakyStore:
    """A store whose method ``failing`` raises the first ``times`` calls (then works); every
    other method is the real store's. Counts each job's recorded ends (succeeded or failed)."""

    def __init__(self, store: Store, failing: str, times: int, also: dict[str, int] | None = None) -> None:
        self._store = store
        self._left = {failing: times, **(also or {})}
        self.ends: Counter[str] = Counter()
        self._guard = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._store, name)
        if not callable(real):
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._guard:
                if self._left.get(name, 0) > 0:
                    self._left[name] -= 1
                    raise _down()
            result = real(*args, **kwargs)
            if name in ("mark_succeeded", "mark_failed"):
                with self._guard:
                    self.ends[args[0]] += 1
            return result

        return call


@pytest.fixture(scope="module")
def rules_matcher() -> Matcher:
    return load_matcher(Settings(rules_only=True))


@pytest.mark.parametrize(("failing", "times", "given_up"), [
    ("claim_next_job", 3, 0),
    ("requeue_running", 2, 0),
    ("record_progress", 2, 0),
    ("mark_succeeded", 2, 0),
    ("mark_failed", 2, 0),
    ("record_progress", 6, 1),            # more than the retries: the job is given up, queued again
    ("mark_succeeded", 6, 1),
    ("mark_failed", 6, 1),
])
def test_runner_finishes_every_job_once_whatever_store_call_fails(
        tmp_path: Path, registry_csv: Path, rules_matcher: Matcher,  # noqa: F811
        failing: str, times: int, given_up: int) -> None:
    settings = make_settings(tmp_path / "var", rules_only=True)
    store = open_store(settings.resolved_database_url())
    for job_id in ("good-1", "good-2", "bad", "orphan"):
        queue_job(store, settings, registry_csv, job_id)
    (settings.var_dir / "jobs" / "bad" / "input.csv").write_bytes(b"\xff\xfe\x00 not a registry")
    # a job left running by a runner that died: queued again (requeue_running) on takeover
    orphan = store.claim_next_job(catalog_version="old", model_version="old")
    assert orphan is not None and orphan.id == "good-1"
    flaky = FlakyStore(store, failing, times, also={"requeue_job": 1} if given_up else None)
    runner = JobRunner(flaky, settings.var_dir / "jobs", lambda: rules_matcher,  # type: ignore[arg-type]
                       chunk_rows=2, poll_seconds=0.02, retry_delays=(0.01, 0.01, 0.01))
    runner.start()
    try:
        assert eventually(lambda: {store.get_job(i).state for i in ("good-1", "good-2", "bad", "orphan")}  # type: ignore[union-attr]
                           <= {"succeeded", "failed"}, timeout=60), [store.get_job(i) for i in ("good-1", "bad")]
        assert not runner.problems()
    finally:
        runner.stop()
    jobs = {i: store.get_job(i) for i in ("good-1", "good-2", "bad", "orphan")}
    assert {i: j.state for i, j in jobs.items()} == {  # type: ignore[union-attr]
        "good-1": "succeeded", "good-2": "succeeded", "bad": "failed", "orphan": "succeeded"}
    assert flaky.ends == {"good-1": 1, "good-2": 1, "bad": 1, "orphan": 1}      # each ended once
    # good-1 was claimed once before the runner started; a given-up job ran once more
    assert sum(j.attempts for j in jobs.values()) == 5 + given_up  # type: ignore[union-attr]
    results = {(settings.var_dir / "jobs" / i / "result.csv").read_text() for i in ("good-1", "good-2", "orphan")}
    assert len(results) == 1                                                   # resumed runs: same result
    store.close()


# --- readiness notices a dead or stuck runner ------------------------------------------------
def test_readyz_reports_a_stuck_or_dead_runner_thread(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var", rules_only=True, job_poll_seconds=0.05)
    app = create_app(settings)
    with LiveServer(app) as srv, srv.client() as c:
        assert c.get("/readyz").status_code == 200 and c.get("/readyz").json()["jobs"] == "ok"
        runner, store = app.state.service.jobs, app.state.service.store
        runner.idle_stall_seconds = 0.5
        release, claim = threading.Event(), store.claim_next_job

        def hanging_claim(**kwargs: str) -> Any:
            release.wait(30)
            return claim(**kwargs)

        store.claim_next_job = hanging_claim  # type: ignore[method-assign]
        try:
            assert eventually(lambda: c.get("/readyz").status_code == 503, timeout=10)
            body = c.get("/readyz").json()
            assert body["issues"][0]["field"] == "jobs.job-worker-0"
            assert "has not looked for jobs" in body["issues"][0]["reason"]
        finally:
            release.set()
            store.claim_next_job = claim  # type: ignore[method-assign]
        assert eventually(lambda: c.get("/readyz").status_code == 200, timeout=10)
        runner.stop()                                         # the threads end: the runner is dead
        r = c.get("/readyz")
        assert r.status_code == 503
        assert r.json()["issues"] == [{"field": "jobs.job-worker-0", "reason": "the job thread has stopped"}]


def test_a_running_job_that_makes_progress_is_not_stuck(tmp_path: Path, registry_csv: Path,  # noqa: F811
                                                       rules_matcher: Matcher) -> None:
    settings = make_settings(tmp_path / "var", rules_only=True)
    store = open_store(settings.resolved_database_url())
    queue_job(store, settings, registry_csv, "slow")
    seen: list[list[tuple[str, str]]] = []
    record = store.record_progress

    def slow_progress(job_id: str, **kwargs: Any) -> bool:
        time.sleep(0.3)                                       # longer than the idle bound
        seen.append(runner.problems())
        return record(job_id, **kwargs)                       # False: the claim is lost

    store.record_progress = slow_progress  # type: ignore[method-assign]
    runner = JobRunner(store, settings.var_dir / "jobs", lambda: rules_matcher, chunk_rows=3,
                       poll_seconds=0.02, idle_stall_seconds=0.1, busy_stall_seconds=5)
    runner.start()
    try:
        assert eventually(lambda: store.get_job("slow").state == "succeeded", timeout=30)  # type: ignore[union-attr]
    finally:
        runner.stop()
    assert len(seen) >= 3 and all(p == [] for p in seen)
    store.close()


# --- an unreachable or locked database: 503 JSON on every endpoint that needs it ----------------
def _assert_503(r: httpx.Response) -> None:
    assert r.status_code == 503, (r.request.method, r.request.url, r.status_code, r.text)
    assert r.json()["issues"][0]["field"] == "database" and r.json()["detail"]


@pytest.fixture()
def live(tmp_path: Path) -> Iterator[tuple[LiveServer, Settings]]:
    settings = make_settings(tmp_path / "var", rules_only=True, job_poll_seconds=0.05)
    with LiveServer(create_app(settings)) as srv:
        yield srv, settings


def test_an_unreachable_database_gives_503_json_everywhere_and_the_service_recovers(
        live: tuple[LiveServer, Settings], registry_csv: Path, profile: dict[str, Any]) -> None:  # noqa: F811
    srv, _ = live
    store: Store = srv.server.config.app.state.service.store
    with srv.client(KEYS["admin"]) as c:
        done = wait_job(c, submit_job(c, registry_csv)["id"])
        down = threading.Event()

        def refuse(*args: Any) -> None:
            if down.is_set():
                raise sqlite3.OperationalError("unable to open database file")

        event.listen(store.engine, "do_connect", refuse)
        down.set()
        store.engine.dispose()                              # pooled connections gone with the server
        requests: list[tuple[str, str, dict[str, Any]]] = [
            ("POST", "/v1/jobs", {"files": {"file": ("r.csv", registry_csv.read_bytes(), CSV)}}),
            ("GET", "/v1/jobs", {}), ("GET", f"/v1/jobs/{done['id']}", {}),
            ("GET", done["result_url"], {}), ("GET", done["rejects_url"], {}),
            ("POST", "/v1/outcomes", {"json": OUTCOME}), ("GET", "/v1/outcomes/export", {}),
            ("POST", "/v1/screen", {"params": {"policy_id": "cn-small-low-profit-cit"}, "json": [profile]}),
            ("GET", "/v1/admin/audit", {}), ("POST", "/v1/admin/reload", {}), ("GET", "/readyz", {}),
        ]
        for method, url, kwargs in requests:
            _assert_503(c.request(method, url, **kwargs))
        assert c.post("/v1/match", json=profile, params={"as_of": AS_OF}).status_code == 200   # needs no database
        down.clear()
        assert eventually(lambda: c.get("/readyz").status_code == 200)
        again = wait_job(c, submit_job(c, registry_csv)["id"])        # the runner survived the outage
        assert again["state"] == "succeeded"
        assert c.post("/v1/outcomes", json=OUTCOME).status_code == 200


def test_a_locked_sqlite_database_gives_503_in_bounded_time(live: tuple[LiveServer, Settings],
                                                           registry_csv: Path) -> None:  # noqa: F811
    srv, settings = live
    db = settings.var_dir / "test.db"
    jobs_before = sorted(p.name for p in (settings.var_dir / "jobs").iterdir())
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with srv.client(KEYS["caseworker"]) as c:
            for method, url, kwargs in [
                    ("POST", "/v1/outcomes", {"json": OUTCOME}),
                    ("POST", "/v1/jobs", {"files": {"file": ("r.csv", registry_csv.read_bytes(), CSV)}})]:
                started = time.monotonic()
                _assert_503(c.request(method, url, **kwargs))
                assert time.monotonic() - started < 3 * SQLITE_BUSY_MS / 1000
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert sorted(p.name for p in (settings.var_dir / "jobs").iterdir()) == jobs_before   # no orphan upload
    with srv.client(KEYS["caseworker"]) as c:
        assert c.post("/v1/outcomes", json=OUTCOME).json() == {"recorded": 1, "duplicates": 0}
        assert wait_job(c, submit_job(c, registry_csv)["id"])["state"] == "succeeded"


# --- a deleted SQLite file -------------------------------------------------------------------
def test_a_deleted_database_file_is_not_ready_and_accepts_nothing(tmp_path: Path, registry_csv: Path) -> None:  # noqa: F811
    settings = make_settings(tmp_path / "var", rules_only=True, job_poll_seconds=0.05)
    db = settings.var_dir / "test.db"
    accepted: list[tuple[str, Any]] = []                       # everything answered 2xx after the deletion
    with LiveServer(create_app(settings)) as srv, srv.client(KEYS["caseworker"]) as c:
        assert c.post("/v1/outcomes", json=OUTCOME).status_code == 200
        for path in db.parent.glob("test.db*"):                 # rm var/test.db*
            path.unlink()
        r = c.get("/readyz")
        assert r.status_code == 503
        assert {"field": "database", "reason": "the database file was deleted or replaced while in use"} \
            in r.json()["issues"]
        later = [{**OUTCOME[0], "firm_id": "CQ-002"}]
        r = c.post("/v1/outcomes", json=later)
        if r.is_success:
            accepted.append(("outcome", "CQ-002"))
        _assert_503(r)
        r = c.post("/v1/jobs", files={"file": ("r.csv", registry_csv.read_bytes(), CSV)})
        if r.is_success:
            accepted.append(("job", r.json()["id"]))
        _assert_503(r)
        _assert_503(c.get("/v1/jobs"))
        assert not db.exists()                                  # nothing wrote a fresh file either
    with pytest.raises(SchemaOutOfDate, match="run `recommender db upgrade"):
        open_store(settings.resolved_database_url())           # a restart would refuse: no database
    db_kit.upgrade(settings.resolved_database_url())          # what the refusal says to run
    with LiveServer(create_app(settings)) as srv, srv.client(KEYS["caseworker"]) as c:   # restart
        assert c.get("/readyz").status_code == 200
        exported = c.get("/v1/outcomes/export").text
        kept_jobs = {j["id"] for j in c.get("/v1/jobs").json()["items"]}
    for kind, what in accepted:
        assert (what in exported) if kind == "outcome" else (what in kept_jobs)


def test_a_replaced_database_file_is_not_ready(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var", rules_only=True)
    db = settings.var_dir / "test.db"
    with LiveServer(create_app(settings)) as srv, srv.client(KEYS["caseworker"]) as c:
        assert c.get("/readyz").status_code == 200
        shutil.copy(db, tmp_path / "copy.db")
        (tmp_path / "copy.db").replace(db)                    # a restored backup: another file
        assert c.get("/readyz").status_code == 503
        _assert_503(c.post("/v1/outcomes", json=OUTCOME))


# --- jobs belong to the key that created them; GET /v1/jobs ------------------------------------
OWNER_KEYS = {"cw-a": "caseworker", "cw-b": "caseworker", "boss": "admin"}


@pytest.fixture(scope="module")
def catalog_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("catalog") / "catalog"
    shutil.copytree(Settings().resolved_catalog_dir(), target)
    return target


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory, catalog_copy: Path) -> Iterator[tuple[Settings, dict[str, httpx.Client]]]:
    """A server with two caseworker keys and an admin key, on a catalog copy."""
    settings = make_settings(tmp_path_factory.mktemp("var"), rules_only=True, catalog_dir=catalog_copy,
                             api_keys={hash_key(k): role for k, role in OWNER_KEYS.items()})
    with LiveServer(create_app(settings)) as srv:
        clients = {k: srv.client(k) for k in OWNER_KEYS}
        yield settings, clients
        for c in clients.values():
            c.close()


def test_another_caseworker_cannot_see_a_job_and_an_admin_can(keyed: tuple[Settings, dict[str, httpx.Client]],
                                                             registry_csv: Path) -> None:  # noqa: F811
    _, c = keyed
    job = wait_job(c["cw-a"], submit_job(c["cw-a"], registry_csv)["id"])
    unknown = c["cw-b"].get("/v1/jobs/no-such-job")
    for url in (f"/v1/jobs/{job['id']}", job["result_url"], job["rejects_url"]):
        r = c["cw-b"].get(url)
        assert r.status_code == 404 and r.json()["issues"] == unknown.json()["issues"]   # as if it did not exist
        assert c["cw-a"].get(url).status_code == 200
        assert c["boss"].get(url).status_code == 200


def test_get_jobs_lists_the_callers_jobs_newest_first_in_pages(keyed: tuple[Settings, dict[str, httpx.Client]],
                                                              registry_csv: Path) -> None:  # noqa: F811
    _, c = keyed
    before = c["cw-b"].get("/v1/jobs").json()["total"]
    mine = [submit_job(c["cw-b"], registry_csv, name=f"r{i}.csv")["id"] for i in range(3)]
    theirs = submit_job(c["cw-a"], registry_csv)["id"]
    first = c["cw-b"].get("/v1/jobs", params={"limit": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["total"] == before + 3 and page["limit"] == 2 and page["offset"] == 0
    assert [j["id"] for j in page["items"]] == mine[::-1][:2]
    rest = c["cw-b"].get(page["next"]).json()
    assert rest["items"][0]["id"] == mine[0] and theirs not in {j["id"] for j in rest["items"]}
    last = c["cw-b"].get("/v1/jobs", params={"limit": 100, "offset": before + 2}).json()
    assert last["next"] is None and len(last["items"]) == 1
    assert theirs in {j["id"] for j in c["boss"].get("/v1/jobs", params={"limit": 100}).json()["items"]}
    for bad in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "x"}):
        r = c["cw-b"].get("/v1/jobs", params=bad)
        assert r.status_code == 422 and r.json()["issues"][0]["field"].startswith("query.")


# --- errors that leak nothing; a binary catalog file; a NUL in a file name ----------------------
def test_a_failed_jobs_error_shows_no_server_path_and_no_rows(keyed: tuple[Settings, dict[str, httpx.Client]]) -> None:
    settings, c = keyed
    cw = c["cw-a"]
    bad = cw.post("/v1/jobs", files={"file": ("bad.parquet", b"this is not parquet", "application/octet-stream")})
    broken = cw.post("/v1/jobs", files={"file": ("rows.csv", b"firm_id,name\nSECRET-ROW,\"x,y\n", CSV)})
    for r in (bad, broken):
        job = wait_job(cw, r.json()["id"])
        text = json.dumps(job)
        assert str(settings.var_dir) not in text and str(settings.var_dir.resolve()) not in text
        assert "SECRET-ROW" not in text
    job = wait_job(cw, bad.json()["id"])
    assert job["state"] == "failed" and job["error"].startswith("bad.parquet: cannot read")


def test_a_binary_catalog_file_is_named_by_reload_and_cli(keyed: tuple[Settings, dict[str, httpx.Client]],
                                                         catalog_copy: Path) -> None:
    _, c = keyed
    binary = catalog_copy / "relief" / "zz-binary.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    try:
        r = c["boss"].post("/v1/admin/reload")
        assert r.status_code == 409, r.text
        assert "relief/zz-binary.yaml" in r.json()["detail"]
        assert r.json()["issues"][0]["field"] == "relief/zz-binary.yaml"
        res = CliRunner().invoke(cli_app, ["policies"], env={"RECOMMENDER_CATALOG_DIR": str(catalog_copy)})
        assert res.exit_code != 0 and "relief/zz-binary.yaml" in res.output
        assert "Traceback" not in res.output
    finally:
        binary.unlink()


def test_downloads_and_outcome_exports_and_imports_are_audited(keyed: tuple[Settings, dict[str, httpx.Client]],
                                                              registry_csv: Path) -> None:  # noqa: F811
    _, c = keyed
    job = wait_job(c["cw-a"], submit_job(c["cw-a"], registry_csv)["id"])
    assert c["cw-a"].get(job["result_url"]).status_code == 200
    assert c["cw-a"].get(job["rejects_url"]).status_code == 200
    assert c["cw-b"].post("/v1/outcomes", json=OUTCOME).status_code == 200
    assert c["cw-b"].get("/v1/outcomes/export", params={"policy_id": "cn-tech-sme-evaluation"}).status_code == 200
    entries = c["boss"].get("/v1/admin/audit", params={"limit": 10}).json()
    by_action = {e["action"]: e for e in entries}
    a, b = hash_key("cw-a")[:12], hash_key("cw-b")[:12]
    assert by_action["job_result"]["key_id"] == a and by_action["job_result"]["job_id"] == job["id"]
    assert by_action["job_rejects"]["key_id"] == a and by_action["job_rejects"]["job_id"] == job["id"]
    assert by_action["outcomes_import"]["key_id"] == b and by_action["outcomes_import"]["n_firms"] == 1
    assert by_action["outcomes_export"]["key_id"] == b
    assert by_action["outcomes_export"]["policy_id"] == "cn-tech-sme-evaluation"
