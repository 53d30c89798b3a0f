"""The whole role × endpoint matrix, through HTTP.

public endpoints: open without a key (a key, if sent, must be valid); caseworker and admin
endpoints: 401 without a key or with an unknown one, 403 with a lower role.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from .api_testkit import AS_OF

ROLES = [None, "bogus", "public", "caseworker", "admin"]
NEEDS = {"public": 0, "caseworker": 1, "admin": 2}
RANK = {"public": 0, "caseworker": 1, "admin": 2}


def expected(needed: str, role: str | None, ok: int) -> int:
    if role == "bogus":
        return 401
    if role is None:
        return ok if needed == "public" else 401
    return ok if RANK[role] >= NEEDS[needed] else 403


@pytest.fixture(scope="module")
def finished_job(clients: dict[Any, httpx.Client], registry_csv: Path) -> str:
    c = clients["caseworker"]
    r = c.post("/v1/jobs", params={"as_of": AS_OF},
               files={"file": ("registry.csv", registry_csv.read_bytes(), "text/csv")})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    deadline = time.monotonic() + 60
    while c.get(f"/v1/jobs/{job_id}").json()["state"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert c.get(f"/v1/jobs/{job_id}").json()["state"] == "succeeded"
    return str(job_id)


def _calls(profile: dict[str, Any], registry_csv: Path, job_id: str) -> list[tuple[str, str, str, dict[str, Any], int]]:
    outcome = [{"firm_id": "F1", "policy_id": "cn-small-low-profit-cit", "event_date": "2022-05-01",
                "outcome": "applied"}]
    upload = {"files": {"file": ("registry.csv", registry_csv.read_bytes(), "text/csv")}}
    return [
        ("public", "POST", "/v1/match", {"json": profile, "params": {"as_of": AS_OF}}, 200),
        ("public", "POST", "/v1/match/batch", {"json": [profile]}, 200),
        ("public", "GET", "/v1/policies", {}, 200),
        ("public", "GET", "/v1/policies/cn-small-low-profit-cit", {}, 200),
        ("caseworker", "POST", "/v1/screen", {"json": [profile], "params": {"policy_id": "cn-small-low-profit-cit"}}, 200),
        ("caseworker", "POST", "/v1/jobs", upload, 202),
        ("caseworker", "GET", f"/v1/jobs/{job_id}", {}, 200),
        ("caseworker", "GET", f"/v1/jobs/{job_id}/result", {}, 200),
        ("caseworker", "GET", f"/v1/jobs/{job_id}/rejects", {}, 200),
        ("caseworker", "POST", "/v1/outcomes", {"json": outcome}, 200),
        ("caseworker", "GET", "/v1/outcomes/export", {}, 200),
        ("admin", "POST", "/v1/admin/reload", {}, 200),
        ("admin", "GET", "/v1/admin/audit", {}, 200),
    ]


def test_role_matrix(clients: dict[Any, httpx.Client], profile: dict[str, Any], registry_csv: Path,
                     finished_job: str) -> None:
    got, want = {}, {}
    for needed, method, path, kwargs, ok in _calls(profile, registry_csv, finished_job):
        for role in ROLES:
            r = clients[role].request(method, path, **kwargs)
            got[(path, role)] = r.status_code
            want[(path, role)] = expected(needed, role, ok)
            if r.status_code in (401, 403):
                body = r.json()
                assert body["issues"][0]["field"] == "header.X-API-Key"
    assert got == want


def test_health_endpoints_need_no_key(clients: dict[Any, httpx.Client]) -> None:
    assert clients[None].get("/healthz").json() == {"status": "ok"}
    ready = clients[None].get("/readyz").json()
    assert ready["status"] == "ready" and ready["database"] == "ok" and ready["policies"] > 0


def test_bearer_token_is_accepted(server: Any) -> None:
    with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer dev-admin-key"}) as c:
        assert c.get("/v1/admin/audit").status_code == 200
    with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer wrong"}) as c:
        assert c.get("/v1/admin/audit").status_code == 401


def test_unauthorised_response_names_the_scheme(clients: dict[Any, httpx.Client]) -> None:
    r = clients[None].get("/v1/outcomes/export")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert r.json() == {"detail": "an API key is required (X-API-Key header)",
                        "issues": [{"field": "header.X-API-Key", "reason": "missing"}]}
