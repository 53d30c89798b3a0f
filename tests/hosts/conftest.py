"""Fixtures of the several-hosts tests: a throw-away PostgreSQL cluster for the session
(skipped with the reason when none can be had) and a fresh database per test, on SQLite and
on PostgreSQL (``store_url``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hosts.pg_kit import Cluster, at_head, start_cluster, why_no_postgres


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
    """A new PostgreSQL database with the service's tables and nothing in them."""
    return at_head(pg_cluster.new_database())


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new database with the service's tables and nothing in them, on each backend."""
    if request.param == "sqlite":
        return at_head(f"sqlite:///{tmp_path / 'jobs.db'}")
    return str(request.getfixturevalue("pg_url"))
