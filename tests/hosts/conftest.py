"""Fixtures of the several-hosts tests: a PostgreSQL server for the session (the one CI names,
or a throw-away cluster; skipped with the reason when there is neither) and a fresh database at
the schema's head per test (tests/db_kit.py), on SQLite and on PostgreSQL (``store_url``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import db_kit
from tests.hosts.pg_kit import Cluster, start_cluster, why_no_postgres


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    reason = why_no_postgres()
    if reason is not None:
        pytest.skip(reason)
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture()
def pg_url(pg_cluster: Cluster, tmp_path: Path) -> str:
    """A new PostgreSQL database (a schema of its own) at the schema's head, empty."""
    with db_kit.using(pg_cluster.server_url):
        return db_kit.fresh_url(tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new database with the service's tables and nothing in them, on each backend."""
    if request.param == "sqlite":
        with db_kit.using(db_kit.SQLITE):
            return db_kit.fresh_url(tmp_path, "jobs.db")
    return str(request.getfixturevalue("pg_url"))
