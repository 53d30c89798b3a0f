"""Fixtures of the several-hosts tests: a throw-away PostgreSQL cluster for the session
(skipped with the reason when none can be had) and a fresh database per test, on SQLite and
on PostgreSQL (``store_url``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
def pg_url(pg_cluster: Cluster) -> str:
    """A new empty PostgreSQL database."""
    return pg_cluster.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new empty database, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.db'}"
    return str(request.getfixturevalue("pg_url"))
