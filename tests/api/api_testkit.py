"""Helpers shared by the API tests: keys, a live uvicorn server, settings, sample data."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import uvicorn
from fastapi import FastAPI

from api.security import key_id
from recommender.settings import Settings
from recommender.store import Store
from tests import db_kit

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples" / "firms.jsonl"
KEYS = {"public": "dev-public-key", "caseworker": "dev-caseworker-key", "admin": "dev-admin-key"}
AS_OF = "2022-06-30"
CSV = "text/csv"
CASEWORKER_KEY_ID = key_id(KEYS["caseworker"])   # the owner of jobs queued straight in the store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """``with LiveServer(app) as srv:`` serves ``app`` at ``srv.url`` until the block ends."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"X-API-Key": key} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def make_settings(var_dir: Path, **overrides: Any) -> Settings:
    """Settings on ``var_dir`` and its database at the schema's head, on the backend under test
    (SQLite: ``var_dir/test.db``; made at the first call for ``var_dir``, shared by later ones:
    tests/db_kit.py), unless ``database_url`` is given."""
    if "database_url" not in overrides:
        overrides["database_url"] = db_kit.database_in(var_dir)
    return Settings(**{"var_dir": var_dir, "api_keys": None, **overrides})


def registry_frame(profiles: list[dict[str, Any]]) -> pd.DataFrame:
    """Profiles as registry rows (certifications as ;-separated text)."""
    rows = [{**p, "certifications": ";".join(p.get("certifications") or []) or None} for p in profiles]
    return pd.DataFrame(rows)


def wait_job(client: httpx.Client, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return dict(job)
        time.sleep(0.05)


def submit_job(client: httpx.Client, path: Path, name: str = "registry.csv") -> dict[str, Any]:
    r = client.post("/v1/jobs", params={"as_of": AS_OF, "top_k": 3},
                    files={"file": (name, path.read_bytes(), CSV)})
    assert r.status_code == 202, r.text
    assert r.headers["Location"] == f"/v1/jobs/{r.json()['id']}"
    return dict(r.json())


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def queue_job(store: Store, settings: Settings, registry_csv: Path, job_id: str) -> None:
    """A job queued straight in the store (as one accepted before the workers started)."""
    folder = settings.var_dir / "jobs" / job_id
    folder.mkdir(parents=True)
    shutil.copy(registry_csv, folder / "input.csv")
    store.create_job(job_id=job_id, key_id=CASEWORKER_KEY_ID, input_name="registry.csv", input_path=folder / "input.csv",
                     output_path=folder / "result.csv", rejects_path=folder / "rejects.csv",
                     as_of=dt.date(2022, 6, 30), top_k=3)
