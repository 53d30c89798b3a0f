"""GET /v1/jobs/{id}/fairness: the fairness report of a finished job, end to end (upload,
run, report), computed once into the job's directory; 404/409 as the job's other results."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from .api_testkit import AS_OF, CSV, LiveServer, registry_frame, wait_job


@pytest.fixture(scope="module")
def big_registry(tmp_path_factory: pytest.TempPathFactory, profiles: list[dict[str, Any]]) -> Path:
    """The sample firms five times over (110 firms), so that groups reach 30 firms."""
    copies = [{**p, "firm_id": f"{p['firm_id']}-{i}"} for i in range(5) for p in profiles]
    path = tmp_path_factory.mktemp("fairness") / "registry.csv"
    registry_frame(copies).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def finished(clients: dict[Any, httpx.Client], big_registry: Path) -> dict[str, Any]:
    c = clients["caseworker"]
    r = c.post("/v1/jobs", params={"as_of": AS_OF, "top_k": 5},
               files={"file": ("registry.csv", big_registry.read_bytes(), CSV)})
    assert r.status_code == 202, r.text
    job = wait_job(c, r.json()["id"])
    assert job["state"] == "succeeded", job
    return job


def test_fairness_of_a_finished_job(clients: dict[Any, httpx.Client], server: LiveServer,
                                    finished: dict[str, Any], profiles: list[dict[str, Any]]) -> None:
    c = clients["caseworker"]
    r = c.get(f"/v1/jobs/{finished['id']}/fairness")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    report = r.json()
    assert report["inputs"]["firms"] == 5 * len(profiles) == 110
    assert report["inputs"]["registry_firms_not_matched"] == 0
    assert report["inputs"]["shown_per_firm"] <= 5
    assert report["method"]["min_group_size"] == 30
    overall = report["overall"]
    assert overall["firms"] == 110 and not overall["suppressed"]
    assert 0 <= overall["rules"]["eligible_share"]["value"] <= 1
    low, high = overall["rules"]["eligible_share"]["ci"]
    assert low <= overall["rules"]["eligible_share"]["value"] <= high
    shown = [row for rows in report["by_group"].values() for row in rows if not row["suppressed"]]
    assert shown and all(row["firms"] >= 30 for row in shown)
    assert sum(row["firms"] for row in report["by_group"]["region_code"] if not row["suppressed"]) <= 110
    # computed once, kept beside the job's result
    var_dir = server.server.config.app.state.service.settings.var_dir
    cached = Path(var_dir) / "jobs" / finished["id"] / "fairness" / "fairness.json"
    assert cached.exists()
    before = cached.stat().st_mtime_ns
    again = c.get(f"/v1/jobs/{finished['id']}/fairness")
    assert again.json() == report and cached.stat().st_mtime_ns == before


def test_fairness_report_page_is_self_contained(clients: dict[Any, httpx.Client], finished: dict[str, Any]) -> None:
    r = clients["caseworker"].get(f"/v1/jobs/{finished['id']}/fairness", params={"format": "html"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "政策推荐公平性报告" in page and "110 户企业 firms" in page
    assert re.findall(r"""(?:src|href)=["']?(?!data:)[^"'\s>]+""", page) == []
    assert "http" not in re.sub(r"data:[^\"')\s]+", "", page)


def test_an_admin_sees_it_and_others_do_not(clients: dict[Any, httpx.Client], finished: dict[str, Any]) -> None:
    url = f"/v1/jobs/{finished['id']}/fairness"
    assert clients["admin"].get(url).status_code == 200
    assert clients[None].get(url).status_code == 401
    assert clients["public"].get(url).status_code == 403


def test_unknown_job_is_404_and_a_bad_format_422(clients: dict[Any, httpx.Client], finished: dict[str, Any]) -> None:
    r = clients["caseworker"].get("/v1/jobs/0000/fairness")
    assert r.status_code == 404 and r.json()["issues"] == [{"field": "job_id", "reason": "unknown job"}]
    r = clients["caseworker"].get(f"/v1/jobs/{finished['id']}/fairness", params={"format": "pdf"})
    assert r.status_code == 422 and "format" in r.text


def test_a_job_that_did_not_succeed_is_409(clients: dict[Any, httpx.Client]) -> None:
    c = clients["caseworker"]
    r = c.post("/v1/jobs", files={"file": ("bad.parquet", b"this is not parquet", "application/octet-stream")})
    job = wait_job(c, r.json()["id"])
    assert job["state"] == "failed"
    r = c.get(f"/v1/jobs/{job['id']}/fairness")
    assert r.status_code == 409 and r.json()["issues"] == [{"field": "job_id", "reason": "state failed"}]


def test_a_job_without_a_matched_firm_is_409(clients: dict[Any, httpx.Client], profiles: list[dict[str, Any]],
                                              tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    registry_frame([{**profiles[0], "firm_id": "BAD-1", "revenue": -5.0}]).to_csv(path, index=False)
    c = clients["caseworker"]
    r = c.post("/v1/jobs", files={"file": ("bad.csv", path.read_bytes(), CSV)})
    job = wait_job(c, r.json()["id"])
    assert (job["state"], job["firms_matched"], job["rows_rejected"]) == ("succeeded", 0, 1)
    r = c.get(f"/v1/jobs/{job['id']}/fairness")
    assert r.status_code == 409 and r.json()["issues"] == [{"field": "job_id", "reason": "no matched firm"}]
