"""Fixtures for the API tests: settings on a temporary var/ and database, a live server,
clients per role, and sample profiles and registries.

The reference data and catalog are the bundled ones unless ``RECOMMENDER_DATA_DIR`` /
``RECOMMENDER_CATALOG_DIR`` say otherwise (the settings are read from the environment).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from .api_testkit import KEYS, SAMPLES, LiveServer, make_settings, registry_frame

from api.main import create_app
from tests import db_kit


@pytest.fixture(scope="session")
def profiles() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def profile(profiles: list[dict[str, Any]]) -> dict[str, Any]:
    return profiles[0]


@pytest.fixture(scope="session")
def registry_csv(tmp_path_factory: pytest.TempPathFactory, profiles: list[dict[str, Any]]) -> Path:
    """The sample firms plus one bad row (negative revenue) as CSV."""
    df = registry_frame(profiles + [{**profiles[0], "firm_id": "BAD-1", "revenue": -5.0}])
    path = tmp_path_factory.mktemp("registry") / "registry.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture(autouse=True)
def _on_backend(on_backend: str) -> str:
    """Every API test runs on each database backend under test (tests/db_kit.py)."""
    return on_backend


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, database_backend: str) -> Iterator[LiveServer]:
    """One live server per database backend, configured as deployed (bundled catalog, default
    model), on its own var/ and database. Tests that need another configuration or a restart
    start their own."""
    with db_kit.using(database_backend):
        settings = make_settings(tmp_path_factory.mktemp("var"))
    with LiveServer(create_app(settings)) as srv:
        yield srv


@pytest.fixture(scope="session")
def clients(server: LiveServer) -> Iterator[dict[str | None, httpx.Client]]:
    """httpx clients keyed by role (``None``: no key; ``"bogus"``: an unknown key)."""
    made: dict[str | None, httpx.Client] = {role: server.client(key) for role, key in KEYS.items()}
    made[None] = server.client()
    made["bogus"] = server.client("not-a-key")
    yield made
    for c in made.values():
        c.close()


def pytest_configure(config: pytest.Config) -> None:
    # FastAPI silences pydantic's UnsupportedFieldAttributeWarning with warnings.catch_warnings(),
    # which is not thread-safe: while a live server thread builds a field, another thread may
    # restore the "error" filter and the silenced warning escapes as an exception (a spurious
    # 500). The warning is FastAPI-internal noise, so it is ignored for these tests.
    config.addinivalue_line("filterwarnings", "ignore::pydantic.warnings.UnsupportedFieldAttributeWarning")
