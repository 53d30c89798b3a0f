"""``Store.job_tallies``: the job figures of ``GET /metrics`` in one query."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from recommender.store import open_store
from recommender.store.repository import JobTally
from tests import db_kit


@pytest.fixture(autouse=True)
def _on_backend(on_backend: str) -> str:
    """On every database backend under test (tests/db_kit.py)."""
    return on_backend


def test_jobs_are_tallied_by_state_with_the_rows_of_succeeded_ones(tmp_path: Path) -> None:
    store = open_store(db_kit.fresh_url(tmp_path, "jobs.db"))
    assert store.job_tallies() == []
    ids = [store.create_job(key_id="k", input_name="r.csv", input_path=tmp_path / f"{i}.csv",
                            output_path=tmp_path / f"{i}.out", rejects_path=tmp_path / f"{i}.rej",
                            as_of=dt.date(2022, 6, 30), top_k=3).id for i in range(5)]
    for _ in range(4):
        assert store.claim_next_job(catalog_version="c", model_version="m") is not None
    store.mark_succeeded(ids[0], rows_read=1_000, firms_matched=990, rows_rejected=10)
    store.mark_succeeded(ids[1], rows_read=7, firms_matched=7, rows_rejected=0)
    store.mark_failed(ids[2], error="unreadable")
    store.record_progress(ids[3], rows_done=500, chunks_done=1)    # running: rows not counted yet
    assert store.job_tallies() == [JobTally("failed", 1, 0, 0), JobTally("queued", 1, 0, 0),
                                   JobTally("running", 1, 0, 0), JobTally("succeeded", 2, 997, 10)]
    store.close()
