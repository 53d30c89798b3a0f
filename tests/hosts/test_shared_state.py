"""What hosts share besides the queue (issue 23, item 3): reloads propagate through the database
(no file in a ``var`` directory), and jobs' files live in ``RECOMMENDER_JOBS_DIR``."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from api.main import _follow_reloads, create_app
from recommender.settings import Settings
from recommender.store import open_store
from tests.api.api_testkit import KEYS, LiveServer, eventually, make_settings, submit_job, wait_job
from tests.api.conftest import profiles, registry_csv  # noqa: F401 - fixtures

ADMIN = {"X-API-Key": KEYS["admin"]}


def _version(srv: LiveServer) -> str:
    with srv.client() as c:
        return str(c.get("/readyz").json()["catalog_version"])


def test_a_reload_on_one_host_reaches_a_host_with_another_var_directory(
        store_url: str, tmp_path: Path, catalog_copy: Path) -> None:
    common = {"database_url": store_url, "catalog_dir": catalog_copy, "rules_only": True, "reload_poll_seconds": 0.1}
    a_settings = make_settings(tmp_path / "host-a", **common)
    b_settings = make_settings(tmp_path / "host-b", **common)
    with LiveServer(create_app(a_settings)) as a, LiveServer(create_app(b_settings)) as b:
        before = _version(a)
        assert _version(b) == before
        sorted(catalog_copy.rglob("*.yaml"))[0].unlink()
        with a.client(KEYS["admin"]) as c:
            r = c.post("/v1/admin/reload")
        assert r.status_code == 200, r.text
        after = r.json()["catalog_version"]
        assert after != before and _version(a) == after
        assert eventually(lambda: _version(b) == after)
        # nothing in either var directory carries it: the generation is in the database
        assert not list((tmp_path / "host-a").glob("*.stamp")) and not list((tmp_path / "host-b").glob("*.stamp"))
        store = open_store(store_url)
        assert store.reload_generation() == 1
        store.close()
        time.sleep(0.3)
        assert _version(a) == after                          # the reloading host does not reload again


def test_a_reload_the_database_cannot_record_is_503_and_swaps_nothing(
        tmp_path: Path, catalog_copy: Path) -> None:
    settings = make_settings(tmp_path / "var", catalog_dir=catalog_copy, rules_only=True)
    app = create_app(settings)
    with LiveServer(app) as srv, srv.client(KEYS["admin"]) as c:
        before = _version(srv)
        sorted(catalog_copy.rglob("*.yaml"))[0].unlink()
        store = app.state.service.store

        def down(**kwargs: str) -> int:
            raise OperationalError("UPDATE service_state …", {}, sqlite3.OperationalError("database is locked"))

        store.record_reload = down
        r = c.post("/v1/admin/reload")
        assert r.status_code == 503, r.text
        assert r.json()["issues"][0]["field"] == "database"
        assert _version(srv) == before                       # nothing swapped: no host reloaded
        del store.record_reload
        assert c.post("/v1/admin/reload").json()["catalog_version"] != before


def test_jobs_files_live_in_the_configured_jobs_directory(tmp_path: Path, registry_csv: Path) -> None:  # noqa: F811
    shared = tmp_path / "mounted" / "jobs"
    settings = make_settings(tmp_path / "var", rules_only=True, jobs_dir=shared, job_poll_seconds=0.1)
    with LiveServer(create_app(settings)) as srv, srv.client(KEYS["caseworker"]) as c:
        done = wait_job(c, submit_job(c, registry_csv)["id"])
        assert done["state"] == "succeeded"
        assert (shared / done["id"] / "result.csv").is_file()
        assert c.get(done["result_url"]).text == (shared / done["id"] / "result.csv").read_text(encoding="utf-8")
    assert not (tmp_path / "var" / "jobs").exists()
    assert (tmp_path / "var" / ".runner.lock").exists()      # the runner lock stays per var directory


@pytest.mark.parametrize(("lease", "ok"), [(0.999, False), (1.0, True), (1.001, True), (3600, True), (3600.001, False)])
def test_the_lease_setting_is_bounded(lease: float, ok: bool) -> None:
    if ok:
        assert Settings(job_lease_seconds=lease).job_lease_seconds == lease
    else:
        with pytest.raises(ValidationError, match="job_lease_seconds"):
            Settings(job_lease_seconds=lease)


def test_the_jobs_directory_defaults_to_var_jobs(tmp_path: Path, monkeypatch: Any) -> None:
    assert Settings(var_dir=tmp_path).resolved_jobs_dir() == tmp_path / "jobs"
    monkeypatch.setenv("RECOMMENDER_JOBS_DIR", str(tmp_path / "shared"))
    assert Settings(var_dir=tmp_path).resolved_jobs_dir() == tmp_path / "shared"


def test_an_unreachable_database_is_logged_once_by_the_reload_follower(caplog: pytest.LogCaptureFixture) -> None:
    """The follower reads the database every poll; an outage is one warning, its end one note."""
    answers = [OperationalError("SELECT service_state …", {}, sqlite3.OperationalError("unable to open"))] * 3 \
        + [False] * 3 + [True]
    followed: list[int] = []

    class Fake:
        def reload_pending(self) -> bool:
            answer = answers.pop(0) if answers else False
            if isinstance(answer, Exception):
                raise answer
            return answer

        def follow_reload(self) -> bool:
            followed.append(1)
            return True

    async def run() -> None:
        task = asyncio.create_task(_follow_reloads(Fake(), 0.01))  # type: ignore[arg-type]
        while answers:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        task.cancel()

    with caplog.at_level("INFO", logger="api"):
        asyncio.run(run())
    messages = [(r.levelname, r.getMessage().split(" (")[0]) for r in caplog.records if r.name == "api"]
    assert messages == [("WARNING", "checking for a reload by another process failed"),
                        ("INFO", "checking for reloads by other processes works again")]
    assert followed == [1]
