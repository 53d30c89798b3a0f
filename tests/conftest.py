"""Shared fixtures: the bundled reference tables and catalog, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from recommender.rules.catalog import Catalog, load_catalog
from recommender.profile.reference import ReferenceTables, load_reference
from recommender.settings import DEFAULT_DATA_DIR

ROOT = Path(__file__).resolve().parent.parent
DATA = DEFAULT_DATA_DIR


@pytest.fixture(scope="session")
def ref() -> ReferenceTables:
    return load_reference(DATA)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()
