"""The schema's migrations (Alembic) on every database backend under test (tests/db_kit.py):
the models and the migrations agree; a database upgrades, downgrades one step and upgrades
again; one created before migrations is adopted with its rows; one that is not at head is
refused with the command to run; ``recommender db`` does all of it from the command line."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from recommender.cli.main import app
from recommender.store import (OutcomeRecord, SchemaOutOfDate, StoreUnavailable, connect, current_revision,
                               downgrade_schema, head_revision, open_existing_store, open_store, schema_differences,
                               upgrade_command, upgrade_schema)
from recommender.store import schema as schema_module
from recommender.store.repository import _Base
from tests import db_kit

runner = CliRunner()
OUTCOME = OutcomeRecord(firm_id="F-1", policy_id="cn-rd-super-deduction", event_date=dt.date(2022, 3, 1),
                        outcome="approved", model_version="ltr-abc", rank=1)
LEASE_REVISION = '''"""jobs lease (a test revision)"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lease_until")
'''


@pytest.fixture(autouse=True)
def _on_backend(on_backend: str) -> str:
    return on_backend


def _revision(url: str) -> str | None:
    engine = connect(url)
    with engine.connect() as conn:
        found = current_revision(conn)
    engine.dispose()
    return found


def _tables_and_columns(url: str, table: str) -> tuple[set[str], list[str]]:
    engine = connect(url)
    inspector = sa.inspect(engine)
    found = set(inspector.get_table_names()), [c["name"] for c in inspector.get_columns(table)] \
        if inspector.has_table(table) else []
    engine.dispose()
    return found


def _run(url: str, step: str, revision: str) -> None:
    engine = connect(url, create=True)
    with engine.begin() as conn:
        (upgrade_schema if step == "upgrade" else downgrade_schema)(conn, revision)
    engine.dispose()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql+psycopg://u:secret@127.0.0.1:{port}/db?connect_timeout=2"


def test_the_models_and_the_migrations_agree(tmp_path: Path) -> None:
    url = db_kit.fresh_url(tmp_path)
    engine = connect(url)
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision() == "0004"
        assert schema_differences(conn) == []
    engine.dispose()
    result = runner.invoke(app, ["db", "check", "--database-url", url])
    assert result.exit_code == 0 and result.stdout == "the models and the migrations agree\n", result.output


def test_a_model_without_its_migration_is_a_difference(tmp_path: Path) -> None:
    url = db_kit.fresh_url(tmp_path)
    engine = connect(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_audit_log_at"))
    engine.dispose()
    result = runner.invoke(app, ["db", "check", "--database-url", url])
    assert result.exit_code == 1
    assert "differs: ('add_index', Index('ix_audit_log_at'" in result.stderr
    assert "the models and the migrations disagree: add a revision (`recommender db revision`)" in result.stderr


def test_upgrade_downgrade_one_step_and_upgrade_again(tmp_path: Path) -> None:
    url = db_kit.empty_url(tmp_path)
    _run(url, "upgrade", "head")
    assert _revision(url) == "0004"
    tables, jobs = _tables_and_columns(url, "jobs")
    assert tables == {"alembic_version", "jobs", "outcomes", "audit_log", "service_state", "subscriptions",
                      "alert_outbox", "alerts_lease"}
    assert "channel" in _tables_and_columns(url, "alert_outbox")[1]
    _run(url, "downgrade", "-1")                            # 0004 (the e-mail channel) undone
    assert _revision(url) == "0003" and "channel" not in _tables_and_columns(url, "alert_outbox")[1]
    assert "email" not in _tables_and_columns(url, "subscriptions")[1]
    _run(url, "downgrade", "-1")                            # 0003 (subscriptions and alerts) undone
    tables, jobs = _tables_and_columns(url, "jobs")
    assert _revision(url) == "0002"
    assert tables == {"alembic_version", "jobs", "outcomes", "audit_log", "service_state"}
    assert jobs[-2:] == ["claimed_by", "lease_expires_at"]
    _run(url, "downgrade", "-1")                            # 0002 (job leases) undone
    tables, jobs = _tables_and_columns(url, "jobs")
    assert _revision(url) == "0001" and tables == {"alembic_version", "jobs", "outcomes", "audit_log"}
    assert "claimed_by" not in jobs and "lease_expires_at" not in jobs
    _run(url, "downgrade", "-1")
    assert _revision(url) is None and _tables_and_columns(url, "outcomes")[0] == {"alembic_version"}
    _run(url, "upgrade", "head")
    assert _revision(url) == "0004"
    store = open_store(url)
    assert store.add_outcomes([OUTCOME], key_id="k") == (1, 0)
    store.close()


def test_a_second_revision_is_behind_then_upgraded_down_one_step_and_up_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What another engineer's revision does: a database at 0004 is refused until upgraded."""
    url = db_kit.fresh_url(tmp_path)
    store = open_store(url)
    store.add_outcomes([OUTCOME], key_id="k")
    store.close()
    scripts = tmp_path / "migrations"
    shutil.copytree(schema_module.MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "v0005_jobs_lease.py").write_text(LEASE_REVISION, encoding="utf-8")
    monkeypatch.setattr(schema_module, "MIGRATIONS", scripts)
    assert head_revision() == "0005"
    with pytest.raises(SchemaOutOfDate) as refused:
        open_store(url)
    assert str(refused.value) == ("the database schema is at revision 0004, behind this version's 0005: "
                                  f"run `{upgrade_command(url)}`")
    _run(url, "upgrade", "head")
    assert _revision(url) == "0005" and "lease_until" in _tables_and_columns(url, "jobs")[1]
    _run(url, "downgrade", "-1")
    assert _revision(url) == "0004" and "lease_until" not in _tables_and_columns(url, "jobs")[1]
    _run(url, "upgrade", "head")
    store = open_store(url)
    assert store.outcomes() == [OUTCOME]                   # rows kept through all of it
    store.close()


def test_a_database_created_before_migrations_is_adopted_with_its_rows(tmp_path: Path) -> None:
    url = db_kit.empty_url(tmp_path)
    engine = connect(url, create=True)
    _Base.metadata.create_all(engine)                  # what open_store did before migrations
    engine.dispose()
    with pytest.raises(SchemaOutOfDate, match="no schema revision \\(new, or created before migrations\\)"):
        open_store(url)
    result = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["stamped revision 0001 (created before migrations)",
                                          f"{db_kit.shown(url)}: empty -> 0004"]
    store = open_store(url)
    assert store.add_outcomes([OUTCOME], key_id="k") == (1, 0) and store.outcomes() == [OUTCOME]
    store.close()
    again = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert again.stdout == f"{db_kit.shown(url)}: 0004 -> 0004\n"          # a second upgrade changes nothing


def test_a_database_not_at_head_is_refused_with_the_command(tmp_path: Path) -> None:
    empty = db_kit.empty_url(tmp_path)
    if not db_kit.on_postgresql():
        with pytest.raises(SchemaOutOfDate) as refused:
            open_store(empty)
        assert not (tmp_path / "test.db").exists()           # refusing creates no file
        assert str(refused.value) == ("the database has no schema revision (new, or created before migrations): "
                                      f"run `recommender db upgrade --database-url {empty}`")
    url = db_kit.fresh_url(tmp_path, "ahead.db")
    engine = connect(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    for opening in (open_store, open_existing_store):
        with pytest.raises(StoreUnavailable, match="at revision 0099, unknown to this version \\(head 0004\\): "
                                                   "was it upgraded by a newer version\\?: run the newer version"):
            opening(url)


def test_the_upgrade_command_hides_the_password() -> None:
    assert upgrade_command("postgresql+psycopg://app:s3cret@db.internal:5432/recommender") == \
        "recommender db upgrade --database-url 'postgresql+psycopg://app:***@db.internal:5432/recommender'"
    assert upgrade_command("sqlite:////srv/var/recommender.db") == \
        "recommender db upgrade --database-url sqlite:////srv/var/recommender.db"


def test_db_current_upgrade_and_downgrade_from_the_command_line(tmp_path: Path) -> None:
    url = db_kit.empty_url(tmp_path)
    if db_kit.on_postgresql():
        assert runner.invoke(app, ["db", "current", "--database-url", url]).stdout == \
            "none (not under migrations: run `recommender db upgrade`)\n"
    up = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert up.exit_code == 0 and up.stdout == f"{db_kit.shown(url)}: empty -> 0004\n", up.output
    assert runner.invoke(app, ["db", "current", "--database-url", url]).stdout == "0004 (head)\n"
    for below in ("0003", "0002", "0001"):
        down = runner.invoke(app, ["db", "downgrade", "-1", "--database-url", url])
        assert down.exit_code == 0 and down.stdout == f"{below} (head is 0004)\n", down.output
    down = runner.invoke(app, ["db", "downgrade", "-1", "--database-url", url])
    assert down.exit_code == 0 and down.stdout == "none (not under migrations: run `recommender db upgrade`)\n"


def test_db_commands_on_a_bad_or_unreachable_database_are_exit_2(tmp_path: Path) -> None:
    cases = {"not a url": "error: --database-url: not a database URL (e.g. sqlite:///var/recommender.db)",
             _closed_port_url(): "error: --database-url: cannot use postgresql+psycopg://u:***@127.0.0.1:"}
    for url, message in cases.items():
        for command in (["db", "upgrade"], ["db", "current"], ["db", "downgrade", "-1"]):
            result = runner.invoke(app, [*command, "--database-url", url])
            assert result.exit_code == 2, (command, result.output)
            assert result.stderr.startswith(message) and "secret" not in result.stderr, result.stderr
    missing = tmp_path / "nowhere" / "recommender.db"
    for command in (["db", "current"], ["db", "downgrade", "-1"]):       # only upgrade creates a database
        result = runner.invoke(app, [*command, "--database-url", f"sqlite:///{missing}"])
        assert result.exit_code == 2 and result.stderr == f"error: --database-url: no database file at {missing}\n"
    assert not missing.parent.exists()


def test_serve_refuses_a_database_behind_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = db_kit.empty_url(tmp_path)
    monkeypatch.setenv("RECOMMENDER_DATABASE_URL", url)
    result = runner.invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert result.stderr == ("error: database: the database has no schema revision (new, or created before "
                             f"migrations): run `{upgrade_command(url)}`\n")


def test_db_revision_writes_the_next_numbered_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the models unchanged the revision is empty; it follows the head and becomes it."""
    scripts = tmp_path / "migrations"
    shutil.copytree(schema_module.MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(schema_module, "MIGRATIONS", scripts)
    result = runner.invoke(app, ["db", "revision", "-m", "jobs: lease columns"])
    written = scripts / "versions" / "v0005_jobs_lease_columns.py"
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(f"wrote {written}: review it (autogenerate misses renames and data moves), "
                                  "then `recommender db upgrade`\n")
    text = written.read_text(encoding="utf-8")
    assert "revision: str = '0005'\ndown_revision: str | Sequence[str] | None = '0004'\n" in text
    empty = "() -> None:\n    # ### commands auto generated by Alembic - please adjust! ###\n    pass\n"
    assert f"def upgrade{empty}" in text and f"def downgrade{empty}" in text
    assert head_revision() == "0005"


def test_the_email_channel_keeps_earlier_alerts_as_webhook_deliveries(tmp_path: Path) -> None:
    """0004 on a database with subscriptions: an alert pending before it is a pending webhook
    delivery after it; going back drops what needs e-mail (an e-mail-only subscription)."""
    url = db_kit.empty_url(tmp_path)
    _run(url, "upgrade", "0003")
    engine = connect(url)
    at = "'2026-12-01 00:00:00+00'"
    with engine.begin() as conn:
        conn.execute(sa.text(f"INSERT INTO subscriptions VALUES ('s-1', 'F-1', 'digest', 'secret', "
                             f"'https://hooks.example.cn/x', '[]', '[]', '{{}}', '{{}}', {at}, 'firm', {at}, {at})"))
        conn.execute(sa.text("INSERT INTO alert_outbox (subscription_id, policy_id, kind, window_key, payload, "
                             f"created_at, state, attempts, next_attempt_at) VALUES ('s-1', 'cn-p', 'new_match', "
                             f"'-', '{{}}', {at}, 'pending', 0, {at})"))
    engine.dispose()
    _run(url, "upgrade", "head")
    store = open_store(url)
    from recommender.store import Subscriptions
    assert [(r["policy_id"], r["channel"], r["state"]) for r in Subscriptions(store).outbox()] == [
        ("cn-p", "webhook", "pending")]
    assert Subscriptions(store).load("s-1").email is None  # type: ignore[union-attr]
    store.close()
    engine = connect(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"INSERT INTO subscriptions VALUES ('s-2', 'F-2', 'digest', 'secret', NULL, '[]', "
                             f"'[]', '{{}}', '{{}}', {at}, 'firm', {at}, {at}, 'a@example.cn')"))
    engine.dispose()
    _run(url, "downgrade", "0003")
    engine = connect(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT id FROM subscriptions")).scalars().all() == ["s-1"]
        assert conn.execute(sa.text("SELECT count(*) FROM alert_outbox")).scalar() == 1
    engine.dispose()
