"""Helpers shared by the API tests: keys, a live uvicorn server, settings, sample data."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import uvicorn
from fastapi import FastAPI

from api.security import key_id
from recommender.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples" / "firms.jsonl"
KEYS = {"public": "dev-public-key", "caseworker": "dev-caseworker-key", "admin": "dev-admin-key"}
AS_OF = "2022-06-30"
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
    return Settings(**{"var_dir": var_dir, "database_url": f"sqlite:///{var_dir / 'test.db'}",
                       "api_keys": None, **overrides})


def registry_frame(profiles: list[dict[str, Any]]) -> pd.DataFrame:
    """Profiles as registry rows (certifications as ;-separated text)."""
    rows = [{**p, "certifications": ";".join(p.get("certifications") or []) or None} for p in profiles]
    return pd.DataFrame(rows)


