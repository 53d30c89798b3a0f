"""Outcomes carry the model version and rank shown: a database created before those columns
(and before migrations) gains them at ``recommender db upgrade`` (its rows kept, the new fields
unknown); until then it is refused; the training read creates nothing."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from recommender.store import OutcomeRecord, SchemaOutOfDate, StoreUnavailable, open_existing_store, open_store
from tests import db_kit

OLD_OUTCOMES_DDL = """
CREATE TABLE outcomes (
    id INTEGER NOT NULL, firm_id VARCHAR(64) NOT NULL, policy_id VARCHAR(80) NOT NULL,
    event_date DATE NOT NULL, outcome VARCHAR(16) NOT NULL, recorded_at DATETIME NOT NULL,
    key_id VARCHAR(16) NOT NULL, PRIMARY KEY (id),
    CONSTRAINT uq_outcome UNIQUE (firm_id, policy_id, event_date, outcome));
CREATE INDEX ix_outcomes_firm_id ON outcomes (firm_id);
INSERT INTO outcomes (firm_id, policy_id, event_date, outcome, recorded_at, key_id)
VALUES ('OLD-1', 'cn-rd-super-deduction', '2022-03-01', 'approved', '2022-03-02 08:00:00', 'k1');
"""
"""The outcomes table as every database before the model_version and rank columns has it."""


def _old_database(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_OUTCOMES_DDL)
    return f"sqlite:///{path}"


def _columns(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[1] for row in conn.execute("PRAGMA table_info(outcomes)")]


def test_an_old_database_file_gains_the_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    url = _old_database(tmp_path / "old.db")
    assert "rank" not in _columns(tmp_path / "old.db")
    with pytest.raises(SchemaOutOfDate, match="created before migrations"):
        open_store(url)
    assert "rank" not in _columns(tmp_path / "old.db")       # opening changes nothing
    db_kit.upgrade(url)
    store = open_store(url)
    assert _columns(tmp_path / "old.db")[-2:] == ["model_version", "rank"]
    new = OutcomeRecord(firm_id="NEW-1", policy_id="cn-rd-super-deduction", event_date=dt.date(2022, 4, 1),
                        outcome="rejected", model_version="ltr-abc", rank=2)
    assert store.add_outcomes([new], key_id="k2") == (1, 0)
    assert store.outcomes() == [
        OutcomeRecord(firm_id="OLD-1", policy_id="cn-rd-super-deduction", event_date=dt.date(2022, 3, 1),
                      outcome="approved"), new]
    assert store.export_outcomes_csv().splitlines() == [
        "firm_id,policy_id,event_date,outcome,model_version,rank",
        "OLD-1,cn-rd-super-deduction,2022-03-01,approved,,",
        "NEW-1,cn-rd-super-deduction,2022-04-01,rejected,ltr-abc,2"]
    store.close()
    again = open_store(url)                    # a second open (another worker) changes nothing
    assert _columns(tmp_path / "old.db")[-2:] == ["model_version", "rank"] and len(again.outcomes()) == 2
    again.close()


def test_reading_an_old_database_for_training_asks_for_the_upgrade(tmp_path: Path) -> None:
    url = _old_database(tmp_path / "old.db")
    with pytest.raises(StoreUnavailable, match=f"run `recommender db upgrade --database-url {url}`"):
        open_existing_store(url)
    assert "rank" not in _columns(tmp_path / "old.db")
    store = open_existing_store(db_kit.upgrade(url))
    assert [(r.firm_id, r.model_version, r.rank) for r in store.outcomes()] == [("OLD-1", None, None)]
    store.close()


def test_reading_for_training_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nothing" / "here.db"
    with pytest.raises(StoreUnavailable, match=f"no database file at {missing}"):
        open_existing_store(f"sqlite:///{missing}")
    assert not missing.parent.exists()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(StoreUnavailable, match="has no outcomes table"):
        open_existing_store(f"sqlite:///{empty}")
    with sqlite3.connect(empty) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []
    with pytest.raises(StoreUnavailable, match="not a database URL"):
        open_existing_store("var/recommender.db")
    with pytest.raises(StoreUnavailable, match="cannot open nosuchdb://u:\\*\\*\\*@h/d: NoSuchModuleError"):
        open_existing_store("nosuchdb://u:secret@h/d")
