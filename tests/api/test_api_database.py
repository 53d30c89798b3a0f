"""The service and its database, on every backend under test (tests/db_kit.py): it refuses to
start on a database behind the schema (saying what to run), a control character in an upload's
name is a 422 naming the file (PostgreSQL cannot store a NUL), and a database that stops answering
gives 503, not 500, until it is back."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest

from .api_testkit import AS_OF, KEYS, LiveServer, make_settings

from api.main import create_app
from recommender.store import SchemaOutOfDate, upgrade_command
from tests import db_kit

OUTCOME = [{"firm_id": "F-1", "policy_id": "cn-rd-super-deduction", "event_date": "2022-03-01",
            "outcome": "approved"}]


def _multipart(name: str, content: bytes) -> tuple[bytes, dict[str, str]]:
    """A raw upload body (httpx would percent-escape a NUL in the name)."""
    boundary = "db-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_the_service_refuses_to_start_on_a_database_behind_the_schema(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = db_kit.empty_url(tmp_path)
    app = create_app(make_settings(tmp_path, database_url=url, rules_only=True))

    async def start() -> None:
        async with app.router.lifespan_context(app):
            pass                                          # pragma: no cover - never reached

    with caplog.at_level(logging.CRITICAL, logger="api"), pytest.raises(SchemaOutOfDate):
        asyncio.run(start())
    assert [r.getMessage() for r in caplog.records if r.name == "api"] == [
        "not starting: the database has no schema revision (new, or created before migrations): "
        f"run `{upgrade_command(url)}`"]
    assert not hasattr(app.state, "service")
    db_kit.upgrade(url)                                   # after the upgrade it starts
    with LiveServer(create_app(make_settings(tmp_path, database_url=url, rules_only=True))) as srv, \
            srv.client() as anyone:
        assert anyone.get("/readyz").status_code == 200


@pytest.mark.parametrize("name", ["reg\x00istry.csv", "registry\x1b.csv", "表\x00.csv"])
def test_a_control_character_in_an_upload_name_is_422_naming_the_file(
        clients: dict[str | None, httpx.Client], registry_csv: Path, name: str) -> None:
    before = clients["admin"].get("/v1/jobs").json()["total"]
    body, headers = _multipart(name, registry_csv.read_bytes())
    r = clients["caseworker"].post("/v1/jobs", params={"as_of": AS_OF}, content=body, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json() == {"detail": "the uploaded file's name contains a control character",
                        "issues": [{"field": "file",
                                    "reason": "file name contains a control character (NUL, tab, escape, ...)"}]}
    assert clients["admin"].get("/v1/jobs").json()["total"] == before       # no job made


def test_a_database_that_stops_answering_gives_503_until_it_is_back(tmp_path: Path) -> None:
    if not db_kit.on_postgresql():
        pytest.skip("PostgreSQL only (an SQLite file cannot stop; its faults: tests/hostile/test_service_faults.py)")
    url = db_kit.fresh_url(tmp_path)
    outage = db_kit.Outage(url)
    settings = make_settings(tmp_path, database_url=outage.url, rules_only=True)
    with LiveServer(create_app(settings)) as srv, srv.client(KEYS["caseworker"]) as cw, srv.client() as anyone:
        assert cw.post("/v1/outcomes", json=OUTCOME).status_code == 200
        outage.stop()
        for method, path, kw in (("POST", "/v1/outcomes", {"json": OUTCOME}), ("GET", "/v1/jobs", {}),
                                 ("GET", "/v1/outcomes/export", {})):
            r = cw.request(method, path, **kw)
            assert r.status_code == 503, (path, r.text)
            assert r.json()["issues"][0]["field"] == "database" and r.headers["Retry-After"] == "5"
        ready = anyone.get("/readyz")
        assert ready.status_code == 503 and ready.json()["issues"] == [{"field": "database", "reason": "unreachable"}]
    with LiveServer(create_app(make_settings(tmp_path, database_url=url, rules_only=True))) as srv, \
            srv.client(KEYS["caseworker"]) as cw:
        export = cw.get("/v1/outcomes/export")
        assert export.text.splitlines()[1:] == ["F-1,cn-rd-super-deduction,2022-03-01,approved,,"]  # stored once


def test_a_nul_in_a_job_id_or_a_policy_filter_finds_nothing_on_every_backend(
        clients: dict[str | None, httpx.Client]) -> None:
    """No stored text has a NUL (PostgreSQL cannot hold one): a lookup by one finds nothing,
    as on SQLite, instead of a 500; the audit entry keeps the filter without it."""
    cw = clients["caseworker"]
    for path in ("/v1/jobs/a%00b", "/v1/jobs/a%00b/result", "/v1/jobs/a%00b/rejects"):
        r = cw.get(path)
        assert r.status_code == 404, (path, r.text)
        assert r.json() == {"detail": "no job 'a\\x00b'", "issues": [{"field": "job_id", "reason": "unknown job"}]}
    export = cw.get("/v1/outcomes/export", params={"policy_id": "cn-rd-super-deduction\x00"})
    assert export.status_code == 200 and export.text == "firm_id,policy_id,event_date,outcome,model_version,rank\n"
    entry = clients["admin"].get("/v1/admin/audit", params={"limit": 1}).json()[0]
    assert (entry["action"], entry["policy_id"]) == ("outcomes_export", "cn-rd-super-deduction")
