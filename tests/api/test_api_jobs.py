"""Bulk jobs through HTTP: upload, progress, results, rejects, and survival of a restart."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from .api_testkit import CASEWORKER_KEY_ID, LiveServer, make_settings, submit_job, wait_job

from api.main import create_app
from recommender.store import open_store



def test_job_runs_and_accounts_for_every_row(clients: dict[Any, httpx.Client], registry_csv: Path,
                                             profiles: list[dict[str, Any]]) -> None:
    c = clients["caseworker"]
    job = wait_job(c, submit_job(c, registry_csv)["id"])
    assert job["state"] == "succeeded", job
    assert (job["rows_read"], job["firms_matched"], job["rows_rejected"]) == (len(profiles) + 1, len(profiles), 1)
    result = list(csv.DictReader(io.StringIO(c.get(job["result_url"]).text)))
    assert {r["firm_id"] for r in result} == {p["firm_id"] for p in profiles}
    assert max(int(r["rank"]) for r in result) <= 3
    rejects = list(csv.DictReader(io.StringIO(c.get(job["rejects_url"]).text)))
    assert rejects == [{"row": str(len(profiles) + 1), "firm_id": "BAD-1", "field": "revenue",
                        "reason": "must be >= 0"}]


def test_job_with_unreadable_input_fails_with_reason(clients: dict[Any, httpx.Client], tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"this is not parquet")
    c = clients["caseworker"]
    r = c.post("/v1/jobs", files={"file": ("bad.parquet", bad.read_bytes(), "application/octet-stream")})
    job = wait_job(c, r.json()["id"])
    assert job["state"] == "failed" and job["error"]
    assert c.get(job["result_url"]).status_code == 409


@pytest.mark.parametrize("name", ["registry.json", "registry.exe", "registry"])
def test_unsupported_registry_type_is_415(clients: dict[Any, httpx.Client], name: str) -> None:
    r = clients["caseworker"].post("/v1/jobs", files={"file": (name, b"a,b\n1,2\n", "application/octet-stream")})
    assert r.status_code == 415


def test_unknown_job_is_404(clients: dict[Any, httpx.Client]) -> None:
    r = clients["caseworker"].get("/v1/jobs/0000")
    assert r.status_code == 404 and r.json()["issues"] == [{"field": "job_id", "reason": "unknown job"}]


def test_jobs_and_results_survive_a_restart(tmp_path: Path, registry_csv: Path, profiles: list[dict[str, Any]]) -> None:
    settings = make_settings(tmp_path / "var", rules_only=True)
    key = {"X-API-Key": "dev-caseworker-key"}
    with LiveServer(create_app(settings)) as first, first.client() as c:
        c.headers.update(key)
        done = wait_job(c, submit_job(c, registry_csv)["id"])
        assert done["state"] == "succeeded"
        result_before = c.get(done["result_url"]).text
    # A job accepted but not run before the service stopped (queued in the database).
    store = open_store(settings.resolved_database_url())
    folder = settings.var_dir / "jobs" / "pending"
    folder.mkdir(parents=True)
    (folder / "input.csv").write_bytes(registry_csv.read_bytes())
    store.create_job(job_id="pending", key_id=CASEWORKER_KEY_ID, input_name="registry.csv", input_path=folder / "input.csv",
                     output_path=folder / "result.csv", rejects_path=folder / "rejects.csv",
                     as_of=dt.date(2022, 6, 30), top_k=3)
    store.close()
    with LiveServer(create_app(settings)) as second, second.client() as c:
        c.headers.update(key)
        again = c.get(f"/v1/jobs/{done['id']}").json()
        assert again["state"] == "succeeded" and again["rows_read"] == done["rows_read"]
        assert c.get(done["result_url"]).text == result_before
        resumed = wait_job(c, "pending")
        assert resumed["state"] == "succeeded"
        assert resumed["firms_matched"] == len(profiles)
        assert c.get(resumed["result_url"]).text == result_before
