"""Log lines and request ids: the formatters, the id accepted or replaced, the id on every
line of a request, on its response and on a 500; the development-key warning."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from .api_testkit import AS_OF, KEYS, LiveServer, make_settings, wait_job

from api.deps import get_matcher
from api.logs import JOB_ID, REQUEST_ID, ContextFilter, JsonFormatter, TextFormatter, accept_request_id
from api.main import create_app
from recommender.settings import hash_key
from tests import db_kit

HEX32 = r"[0-9a-f]{32}"


def _record(message: str = "hello %s", *args: object, exc: bool = False, **extra: Any) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            exc_info = sys.exc_info()
    record = logging.LogRecord("api.test", logging.WARNING, __file__, 1, message, args or ("world",), exc_info)
    record.created = 1796601600.1234          # 2026-12-07T00:00:00.123Z
    for k, v in extra.items():
        setattr(record, k, v)
    ContextFilter().filter(record)
    return record


@pytest.mark.parametrize(("raw", "kept"), [
    (b"lb-7f3a.2_X", True),
    (b"a" * 64, True),                        # at the bound
    (b"a" * 65, False),                       # above it
    (b"", False),
    (b"abc def", False),
    (b"id\r\nX-Injected: 1", False),
    (b"<script>alert(1)</script>", False),
    ("编号1".encode(), False),
    (b"\xff\xfe", False),
])
def test_a_request_id_is_kept_when_safe_and_replaced_otherwise(raw: bytes, kept: bool) -> None:
    request_id, replaced = accept_request_id(raw)
    if kept:
        assert (request_id, replaced) == (raw.decode(), False)
    else:
        assert replaced and len(request_id) == 32 and int(request_id, 16) >= 0


def test_a_missing_request_id_is_generated() -> None:
    first, second = accept_request_id(None), accept_request_id(None)
    assert first[1] is False and len(first[0]) == 32 and first[0] != second[0]


def test_a_json_line_carries_the_fields_and_the_ids_in_context() -> None:
    rid, jid = REQUEST_ID.set("req-1"), JOB_ID.set("job-9")
    try:
        line = json.loads(JsonFormatter().format(_record(route="/v1/match", status=200, duration_ms=1.5)))
    finally:
        REQUEST_ID.reset(rid)
        JOB_ID.reset(jid)
    pid = line.pop("pid")
    assert isinstance(pid, int)
    assert line == {"time": "2026-12-07T00:00:00.123Z", "level": "WARNING", "logger": "api.test",
                    "message": "hello world", "request_id": "req-1", "job_id": "job-9",
                    "route": "/v1/match", "status": 200, "duration_ms": 1.5}


def test_a_json_line_outside_a_request_has_no_ids_and_keeps_the_traceback() -> None:
    line = json.loads(JsonFormatter().format(_record("näive %d", 3, exc=True)))
    assert "request_id" not in line and "job_id" not in line and "route" not in line
    assert line["message"] == "näive 3"
    assert line["exception"].startswith("Traceback") and line["exception"].endswith("ValueError: boom")


def test_a_text_line_shows_the_ids() -> None:
    token = REQUEST_ID.set("req-2")
    try:
        text = TextFormatter().format(_record())
    finally:
        REQUEST_ID.reset(token)
    assert text == "2026-12-07T00:00:00.123Z WARNING api.test [req-2] hello world"
    assert TextFormatter().format(_record()) == "2026-12-07T00:00:00.123Z WARNING api.test [-] hello world"


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(create_app(make_settings(tmp_path / "var", rules_only=True))) as srv:
        yield srv


def _lines(caplog: pytest.LogCaptureFixture, request_id: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "request_id", None) == request_id]


def test_the_request_id_round_trips_and_names_the_access_line(server: LiveServer, profile: dict[str, Any],
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(ContextFilter())
    with server.client() as c:
        r = c.post("/v1/match", params={"as_of": AS_OF}, json=profile, headers={"X-Request-ID": "lb-42.a"})
        assert r.status_code == 200 and r.headers["X-Request-ID"] == "lb-42.a"
        bad = c.get("/healthz", headers={"X-Request-ID": "<img src=x>" + "a" * 80})
        generated = c.get("/healthz")
        too_big = c.post("/v1/match", content=b" " * (5 * 1024 * 1024), headers={"X-Request-ID": "big-1"})
    assert bad.headers["X-Request-ID"] != "" and "<" not in bad.headers["X-Request-ID"]
    assert len(bad.headers["X-Request-ID"]) == 32 and len(generated.headers["X-Request-ID"]) == 32
    assert too_big.status_code == 413 and too_big.headers["X-Request-ID"] == "big-1"    # answered by a middleware
    (access,) = [r for r in _lines(caplog, "lb-42.a") if r.name == "api.access"]
    assert (access.getMessage(), access.route, access.status) == ("POST /v1/match 200", "/v1/match", 200)
    assert 0 < access.duration_ms < 60_000
    assert not any("<img" in r.getMessage() for r in caplog.records)


def test_an_error_answered_outside_the_middleware_still_carries_the_id(tmp_path: Path, profile: dict[str, Any],
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(make_settings(tmp_path / "var", rules_only=True))

    async def broken() -> None:
        raise RuntimeError("matcher exploded")

    app.dependency_overrides[get_matcher] = broken
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(ContextFilter())
    with LiveServer(app) as srv, srv.client() as c:
        r = c.post("/v1/match", params={"as_of": AS_OF}, json=profile, headers={"X-Request-ID": "trace-500"})
    assert r.status_code == 500 and r.json() == {"detail": "internal error", "issues": []}
    assert r.headers["X-Request-ID"] == "trace-500"
    lines = _lines(caplog, "trace-500")
    (unhandled,) = [r for r in lines if r.name == "api" and r.getMessage() == "unhandled error on POST /v1/match"]
    assert unhandled.exc_info is not None and str(unhandled.exc_info[1]) == "matcher exploded"   # with its traceback
    assert any(r.name == "api.access" and r.status == 500 for r in lines)


def test_a_database_error_logged_in_a_handler_thread_carries_the_id(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(ContextFilter())
    database = db_kit.Losable(tmp_path / "var")
    with LiveServer(create_app(make_settings(tmp_path / "var", rules_only=True, database_url=database.url))) as srv, \
            srv.client(KEYS["caseworker"]) as c:
        database.lose()
        r = c.get("/v1/jobs", headers={"X-Request-ID": "db-gone"})
    assert r.status_code == 503 and r.headers["X-Request-ID"] == "db-gone"
    assert any(r.levelname == "ERROR" and r.getMessage().startswith("database unavailable on GET /v1/jobs")
               for r in _lines(caplog, "db-gone"))


def test_a_job_threads_lines_name_the_job_and_no_request(server: LiveServer, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(ContextFilter())
    with server.client(KEYS["caseworker"]) as c:
        r = c.post("/v1/jobs", headers={"X-Request-ID": "upload-1"},
                   files={"file": ("bad.parquet", b"this is not parquet", "application/octet-stream")})
        job = wait_job(c, r.json()["id"])
    assert job["state"] == "failed"
    (failed,) = [r for r in caplog.records if r.getMessage().startswith(f"job {job['id']} failed")]
    assert (failed.levelname, failed.job_id, failed.request_id) == ("WARNING", job["id"], None)


DEV_KEY_WARNING = "the development API keys are active"


@pytest.mark.parametrize("keys", [None, {hash_key("a-real-key-0123456789"): "admin"}])
def test_the_development_keys_are_warned_about_at_start_up(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                           keys: dict[str, str] | None) -> None:
    caplog.set_level(logging.INFO, logger="api")
    with LiveServer(create_app(make_settings(tmp_path / "var", rules_only=True, api_keys=keys))) as srv:
        assert httpx.get(f"{srv.url}/healthz").status_code == 200
    warned = [r for r in caplog.records if r.getMessage().startswith(DEV_KEY_WARNING)]
    assert [r.levelname for r in warned] == (["WARNING"] if keys is None else [])
    assert any(r.getMessage().startswith("ready: catalog") for r in caplog.records)   # start-up was logged
