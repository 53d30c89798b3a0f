"""GET /metrics in one process: what an operator scrapes after a match, a job and a reload.

The multiprocess mode of ``recommender serve --workers 2`` is tested in
``test_api_serve_processes.py``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest
from .api_testkit import AS_OF, KEYS, LiveServer, eventually, make_settings, submit_job, wait_job
from .metrics_kit import requests, scrape, value, with_name

from api.main import create_app
from api.metrics import JOB_STATES, ServiceMetrics
from recommender.settings import Settings
from recommender.store import JobState
from tests import db_kit

ADMIN = {"X-API-Key": KEYS["admin"]}
CASEWORKER = {"X-API-Key": KEYS["caseworker"]}
UNKNOWN_JOB = "0d5e0c7a-0000-4000-8000-00000000beef"


@pytest.fixture()
def service(tmp_path: Path) -> Iterator[tuple[LiveServer, Path]]:
    """A server of its own (counts start at zero) on a copy of the catalog, ranking by rules."""
    catalog = tmp_path / "catalog"
    shutil.copytree(Settings().resolved_catalog_dir(), catalog)
    settings = make_settings(tmp_path / "var", catalog_dir=catalog, rules_only=True, job_poll_seconds=0.1)
    with LiveServer(create_app(settings)) as srv:
        yield srv, catalog


@pytest.fixture()
def admin(service: tuple[LiveServer, Path]) -> Iterator[httpx.Client]:
    with service[0].client(KEYS["admin"]) as c:
        yield c


def test_metrics_need_the_admin_key_and_stay_out_of_the_openapi_document(service: tuple[LiveServer, Path]) -> None:
    srv, _ = service
    with srv.client() as anyone:
        r = anyone.get("/metrics")
        assert r.status_code == 401 and r.json()["issues"] == [{"field": "header.X-API-Key", "reason": "missing"}]
        assert anyone.get("/metrics", headers=CASEWORKER).status_code == 403
        assert anyone.get("/metrics", headers={"X-API-Key": KEYS["public"]}).status_code == 403
        ok = anyone.get("/metrics", headers={"Authorization": f"Bearer {KEYS['admin']}"})   # as Prometheus sends it
        assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/plain; version=")
        assert "/metrics" not in anyone.get("/openapi.json").json()["paths"]


def test_requests_are_counted_by_route_template_and_status(admin: httpx.Client, profile: dict[str, Any]) -> None:
    for _ in range(2):
        assert admin.post("/v1/match", params={"as_of": AS_OF}, json=profile).status_code == 200
    assert admin.post("/v1/match", params={"as_of": AS_OF}, json={**profile, "revenue": -1}).status_code == 422
    assert admin.get(f"/v1/jobs/{UNKNOWN_JOB}").status_code == 404
    assert admin.get(f"/no/such/{UNKNOWN_JOB}").status_code == 404
    assert admin.request("PROPFIND", "/v1/match").status_code == 405
    before = scrape(admin)
    assert requests(before, "POST", "/v1/match", 200) == 2
    assert requests(before, "POST", "/v1/match", 422) == 1
    assert requests(before, "GET", "/v1/jobs/{job_id}", 404) == 1
    assert requests(before, "GET", "unmatched", 404) == 1
    assert requests(before, "other", "/v1/match", 405) == 1
    labels = {v for labels in with_name(before, "recommender_http_request_duration_seconds_count") for _, v in labels}
    assert not any(UNKNOWN_JOB in v or "/no/such" in v for v in labels)          # no raw path became a label
    # the latency histogram: every match fell in a bucket, and the +Inf bucket is the count
    assert value(before, "recommender_http_request_duration_seconds_bucket", method="POST", route="/v1/match",
                 status="200", le="+Inf") == 2
    assert (value(before, "recommender_http_request_duration_seconds_sum", method="POST", route="/v1/match",
                  status="200") or 0) > 0
    after = scrape(admin)
    assert requests(after, "GET", "/metrics", 200) == requests(before, "GET", "/metrics", 200) + 1


def test_a_job_a_reload_and_the_loaded_versions_show(service: tuple[LiveServer, Path], admin: httpx.Client,
                                                     registry_csv: Path, profiles: list[dict[str, Any]]) -> None:
    _, catalog = service
    empty = scrape(admin)
    assert with_name(empty, "recommender_jobs") == {frozenset({("state", s)}): 0 for s in
                                                    ("queued", "running", "succeeded", "failed")}
    assert value(empty, "recommender_job_rows_total", outcome="matched") == 0
    assert value(empty, "recommender_database_up") == 1
    assert value(empty, "recommender_job_runner_alive") == 1 and value(empty, "recommender_job_runner_leading") == 1

    with admin.__class__(base_url=admin.base_url, headers=CASEWORKER, timeout=60) as caseworker:
        done = wait_job(caseworker, submit_job(caseworker, registry_csv)["id"])
    assert done["state"] == "succeeded"
    ran = scrape(admin)
    assert value(ran, "recommender_jobs", state="succeeded") == 1
    assert value(ran, "recommender_jobs", state="queued") == 0
    assert value(ran, "recommender_job_rows_total", outcome="matched") == len(profiles) == done["firms_matched"]
    assert value(ran, "recommender_job_rows_total", outcome="rejected") == 1 == done["rows_rejected"]

    ready = admin.get("/readyz").json()
    serving = with_name(ran, "recommender_serving_info")
    assert serving == {frozenset({("catalog_version", ready["catalog_version"]), ("model_version", "rules-v1")}): 1}
    (build,) = with_name(ran, "recommender_build_info")
    assert dict(build)["api_version"] == "1.0.0" and set(dict(build)) == {"version", "api_version", "python"}

    assert admin.post("/v1/admin/reload").status_code == 200
    victim = sorted(catalog.rglob("*.yaml"))[0]
    victim.write_text(victim.read_text(encoding="utf-8") + "\nsurprise_key: 1\n", encoding="utf-8")
    assert admin.post("/v1/admin/reload").status_code == 409
    assert admin.post("/v1/admin/reload").status_code == 409
    reloaded = scrape(admin)
    assert value(reloaded, "recommender_reloads_total", source="admin", outcome="succeeded") == 1
    assert value(reloaded, "recommender_reloads_total", source="admin", outcome="failed") == 2
    assert requests(reloaded, "POST", "/v1/admin/reload", 409) == 2


def test_a_scrape_with_the_database_gone_reports_it_instead_of_failing(tmp_path: Path) -> None:
    database = db_kit.Losable(tmp_path / "var")
    settings = make_settings(tmp_path / "var", rules_only=True, database_url=database.url)
    with LiveServer(create_app(settings)) as srv, srv.client(KEYS["admin"]) as admin:
        database.lose()
        samples = scrape(admin)
        assert value(samples, "recommender_database_up") == 0
        assert with_name(samples, "recommender_jobs") == {}        # not a stale or made-up zero
        assert with_name(samples, "recommender_serving_info") != {}


def test_reloads_followed_from_another_worker_are_counted(tmp_path: Path) -> None:
    """Two workers on one var/ directory and database; the follower's catalog copy breaks after
    it started, so its first follow fails and the second (after the copy is mended) succeeds."""
    catalogs = []
    for name in ("lead", "follower"):
        catalogs.append(tmp_path / name)
        shutil.copytree(Settings().resolved_catalog_dir(), catalogs[-1])
    shared = {"rules_only": True, "reload_poll_seconds": 0.1}
    lead = make_settings(tmp_path / "var", catalog_dir=catalogs[0], **shared)
    follower = make_settings(tmp_path / "var", catalog_dir=catalogs[1], **shared)
    victim = sorted(catalogs[1].rglob("*.yaml"))[0]
    kept = victim.read_text(encoding="utf-8")
    with LiveServer(create_app(lead)) as a, LiveServer(create_app(follower)) as b, \
            a.client(KEYS["admin"]) as ca, b.client(KEYS["admin"]) as cb:
        victim.write_text(kept + "\nsurprise_key: 1\n", encoding="utf-8")
        assert ca.post("/v1/admin/reload").status_code == 200
        assert eventually(lambda: value(scrape(cb), "recommender_reloads_total", source="follow",
                                        outcome="failed") == 1)
        victim.write_text(kept, encoding="utf-8")
        assert ca.post("/v1/admin/reload").status_code == 200
        assert eventually(lambda: value(scrape(cb), "recommender_reloads_total", source="follow",
                                        outcome="succeeded") == 1)
        on_a, on_b = scrape(ca), scrape(cb)
    assert value(on_a, "recommender_reloads_total", source="admin", outcome="succeeded") == 2
    assert with_name(on_a, "recommender_reloads_total").keys() == {frozenset({("source", "admin"),
                                                                              ("outcome", "succeeded")})}
    assert value(on_b, "recommender_reloads_total", source="follow", outcome="failed") == 1
    assert value(on_b, "recommender_reloads_total", source="admin", outcome="succeeded") is None


def test_every_job_state_of_the_store_is_reported() -> None:
    assert JOB_STATES == get_args(JobState)


def test_multiprocess_mode_set_too_late_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """This process imported prometheus_client without PROMETHEUS_MULTIPROC_DIR: setting it
    now would leave every count in memory, where no scrape of another worker sees it."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    with pytest.raises(RuntimeError, match="PROMETHEUS_MULTIPROC_DIR was set after prometheus_client was "
                                           "imported: set it before the service starts"):
        ServiceMetrics(api_version="1.0.0")
