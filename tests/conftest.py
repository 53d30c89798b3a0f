"""Shared fixtures: the bundled reference tables and catalog, loaded once per session."""

from __future__ import annotations

from collections.abc import Iterator
import shutil
from pathlib import Path

import pytest

from tests import db_kit

from recommender.rules.catalog import Catalog, load_catalog
from recommender.profile.reference import ReferenceTables, load_reference
from recommender.settings import DEFAULT_DATA_DIR, Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = DEFAULT_DATA_DIR


@pytest.fixture(scope="session")
def ref() -> ReferenceTables:
    return load_reference(DATA)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--database-urls", default=None, metavar="sqlite,postgresql+psycopg://…",
                     help="the backends the store and API suites run on (default: $RECOMMENDER_TEST_DATABASE_URLS, "
                          "else sqlite)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Suites that use ``database_backend`` run once per backend (tests/db_kit.py)."""
    if "database_backend" in metafunc.fixturenames:
        urls = db_kit.backends(metafunc.config.getoption("--database-urls"))
        metafunc.parametrize("database_backend", urls, indirect=True, scope="session",
                             ids=[db_kit.backend_id(u) for u in urls])


@pytest.fixture(scope="session")
def database_backend(request: pytest.FixtureRequest) -> str:
    """The backend under test: ``sqlite`` or a PostgreSQL server URL."""
    return str(request.param)


@pytest.fixture()
def on_backend(database_backend: str) -> Iterator[str]:
    """Within the test, :func:`db_kit.fresh_url` (and the API's ``make_settings``) use the
    backend under test. Made autouse by the store and API suites."""
    with db_kit.using(database_backend):
        yield database_backend



@pytest.fixture()
def catalog_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled catalog (for tests that edit it and reload)."""
    target = tmp_path / "catalog"
    shutil.copytree(Settings().resolved_catalog_dir(), target)
    return target

def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    db_kit.drop_session_databases()
