"""``recommender serve --workers 2`` as an operator runs it: metrics merged across the worker
processes, a killed worker's gauges dropped, JSON log lines with request ids and never a
firm's figures or a key, the development-key warning.

One server for the module (two worker processes take ~10-40 s to start on a shared machine);
the tests run in file order against it and the last one stops it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from .api_testkit import AS_OF, KEYS, ROOT, free_port, registry_frame, submit_job, wait_job
from .metrics_kit import Samples, parse, requests, value, with_name

from tests import db_kit

pytestmark = pytest.mark.slow

SECRET_FIGURES = {"revenue": 98_765_432.17, "total_assets": 31_415_926.53, "rd_expense": 2_718_281.83,
                  "vat_credit_balance": 1_234_567.89}
SECRET_NAME, SECRET_ID = "秘密测试精密机械有限公司", "SECRET-FIRM-7741"
HOSTILE_ID = "<svg onload=alert(1)>"
NEEDLES = ["98765432", "31415926", "2718281", "1234567", "55555", SECRET_NAME, SECRET_ID, "svg onload",
           *KEYS.values()]
"""What must never appear in a log line: the firm's figures (as any float or integer spelling
would start), its name and id, the hostile header and every API key."""


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    url: str
    var: Path
    log: Path

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines() if line.strip()]

    def started_pids(self) -> set[int]:
        return {x["pid"] for x in self.lines() if x["message"] == "Application startup complete."}


def _scrape(url: str) -> Samples:
    r = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {KEYS['admin']}"}, timeout=30)
    assert r.status_code == 200, r.text
    return parse(r.text)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, database_backend: str) -> Iterator[Served]:
    var = tmp_path_factory.mktemp("served-var")
    with db_kit.using(database_backend):                  # upgraded first, as `recommender db upgrade` does
        database_url = db_kit.fresh_url(var, "recommender.db")
    (var / "metrics").mkdir()
    (var / "metrics" / "counter_4242.db").write_bytes(b"left by a previous run")   # emptied at start
    log = var / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOMMENDER_") and k != "DATABASE_URL"}
    env |= {"RECOMMENDER_VAR_DIR": str(var), "RECOMMENDER_RULES_ONLY": "true", "RECOMMENDER_LOG_LEVEL": "debug",
            "RECOMMENDER_JOB_POLL_SECONDS": "0.2", "PYTHONPATH": str(ROOT), "RECOMMENDER_DATABASE_URL": database_url}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    port = free_port()
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "recommender.cli.main", "serve", "--port", str(port),
                                 "--workers", "2"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
    srv = Served(proc, f"http://127.0.0.1:{port}", var, log)
    try:
        deadline = time.monotonic() + 180
        while len(srv.started_pids()) < 2:
            assert proc.poll() is None, srv.log.read_text(encoding="utf-8")[-3000:]
            assert time.monotonic() < deadline, "two workers did not start in 180 s"
            time.sleep(0.3)
        yield srv
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


def _served_by(srv: Served, route: str) -> dict[int, int]:
    """Access lines of ``route`` per worker pid."""
    counts: dict[int, int] = {}
    for x in srv.lines():
        if x["logger"] == "api.access" and x.get("route") == route:
            counts[x["pid"]] = counts.get(x["pid"], 0) + 1
    return counts


def test_counts_add_up_across_the_two_workers(served: Served) -> None:
    sent = 0
    while len(_served_by(served, "/healthz")) < 2:      # new connections until both workers answered
        assert sent < 400, "one worker answered every request"
        with httpx.Client() as c:                       # a fresh connection each time
            assert c.get(f"{served.url}/healthz").status_code == 200
        sent += 1
        time.sleep(0.01)
    per_worker = _served_by(served, "/healthz")
    assert sum(per_worker.values()) == sent and all(n >= 1 for n in per_worker.values())
    samples = _scrape(served.url)
    assert requests(samples, "GET", "/healthz", 200) == sent                # both workers' counts, merged
    alive = with_name(samples, "recommender_job_runner_alive")
    leading = with_name(samples, "recommender_job_runner_leading")
    assert {dict(k)["pid"] for k in alive} == {str(p) for p in served.started_pids()}
    assert set(alive.values()) == {1} and sorted(leading.values()) == [0, 1]  # one worker runs the jobs


def test_a_match_and_a_job_log_no_figure_and_no_key(served: Served, profile: dict[str, Any], tmp_path: Path) -> None:
    firm = {**profile, **SECRET_FIGURES, "name": SECRET_NAME, "firm_id": SECRET_ID}
    public = {"X-API-Key": KEYS["public"]}
    with httpx.Client(base_url=served.url, timeout=60) as c:
        r = c.post("/v1/match", params={"as_of": AS_OF}, json=firm, headers={**public, "X-Request-ID": "match-7"})
        assert r.status_code == 200 and r.headers["X-Request-ID"] == "match-7"
        bad = c.post("/v1/match", params={"as_of": AS_OF}, json={**firm, "revenue": -55_555.5},
                     headers={**public, "X-Request-ID": HOSTILE_ID})
        assert bad.status_code == 422 and bad.headers["X-Request-ID"] != HOSTILE_ID
        registry = tmp_path / "secret.csv"
        registry_frame([firm, {**firm, "firm_id": "SECRET-FIRM-7742", "revenue": -55_555.5}]).to_csv(registry,
                                                                                                     index=False)
        c.headers.update({"X-API-Key": KEYS["caseworker"]})
        job = wait_job(c, submit_job(c, registry)["id"])
        assert (job["state"], job["firms_matched"], job["rows_rejected"]) == ("succeeded", 1, 1)
        c.headers.update({"X-API-Key": KEYS["admin"]})
        assert c.post("/v1/admin/reload").status_code == 200
        assert len(pd.read_csv(served.var / "jobs" / job["id"] / "result.csv")) >= 1
    text = served.log.read_text(encoding="utf-8")
    leaked = [n for n in NEEDLES if n in text]
    assert leaked == []
    lines = served.lines()                                                  # every line is one JSON object
    assert all({"time", "level", "logger", "message", "pid"} <= set(x) for x in lines)
    assert all(x["time"].endswith("Z") and x["time"][10] == "T" for x in lines)
    (matched,) = [x for x in lines if x.get("request_id") == "match-7"]
    assert (matched["logger"], matched["route"], matched["status"]) == ("api.access", "/v1/match", 200)
    samples = _scrape(served.url)
    assert requests(samples, "POST", "/v1/match", 200) == 1 and requests(samples, "POST", "/v1/match", 422) == 1
    assert value(samples, "recommender_jobs", state="succeeded") == 1
    assert value(samples, "recommender_job_rows_total", outcome="rejected") == 1
    assert value(samples, "recommender_reloads_total", source="admin", outcome="succeeded") == 1


def test_the_development_keys_are_warned_about_by_each_worker(served: Served) -> None:
    warned = [x for x in served.lines() if x["message"].startswith("the development API keys are active")]
    assert {x["level"] for x in warned} == {"WARNING"}
    assert {x["pid"] for x in warned} >= served.started_pids()


def test_a_killed_worker_drops_out_of_the_gauges_but_its_counts_stay(served: Served) -> None:
    before = _scrape(served.url)
    victim = min(served.started_pids())
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30

    def alive_pids() -> set[str]:
        nonlocal after
        after = _scrape(served.url)
        return {dict(k)["pid"] for k in with_name(after, "recommender_job_runner_alive")}

    after: Samples = {}
    while True:                    # any worker (or the replacement) answers, once the signal has landed
        try:
            if str(victim) not in alive_pids():
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the killed worker still counts as alive"
        time.sleep(0.2)
    assert requests(after, "GET", "/healthz", 200) == requests(before, "GET", "/healthz", 200)


def test_stopping_removes_every_live_gauge(served: Served) -> None:
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(60) == 0
    assert sorted(p.name for p in (served.var / "metrics").glob("gauge_live*")) == []
    assert not (served.var / "metrics" / "counter_4242.db").exists()
