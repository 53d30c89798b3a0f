"""The database schema's revision (Alembic): upgrade, downgrade, the current revision, the
check every opening makes, and the models/migrations agreement.

The migrations live in :data:`MIGRATIONS` (shipped inside the package); there is no
``alembic.ini``: :func:`_config` builds the configuration and passes the connection to
``env.py``. Nothing here creates an engine: the callers (:mod:`recommender.store.opening`,
``recommender db``) pass a connection.

A database created before migrations (tables made by the old ``create_all``, no
``alembic_version``) is recognised by :func:`upgrade_schema`: the first revision's ``adopt`` creates
what it lacks, then it is stamped at that revision and upgraded like any other.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url

from recommender.store.records import StoreUnavailable
from recommender.store.repository import _Base

MIGRATIONS = Path(__file__).with_name("migrations")
"""The Alembic script directory (``env.py``, ``script.py.mako``, ``versions/``)."""
BASELINE = "0001"
"""The first revision: the schema when migrations began (``versions/v0001_current_schema.py``)."""
_TABLES = ("jobs", "outcomes", "audit_log")
_UPGRADE_LOCK = 0x7265636F   # PostgreSQL advisory lock: one upgrade at a time across hosts


def shown_url(url: str) -> str:
    """``url`` with its password hidden (``***``)."""
    return make_url(url).render_as_string(hide_password=True)


def upgrade_command(url: str) -> str:
    """The command that brings the database at ``url`` to this version's schema."""
    return f"recommender db upgrade --database-url {shlex.quote(shown_url(url))}"


class SchemaOutOfDate(StoreUnavailable):
    """The database's schema revision is not the one this version needs (``head``)."""

    def __init__(self, url: str, current: str | None, head: str, *, known: bool) -> None:
        if current is None:
            where = "the database has no schema revision (new, or created before migrations)"
        elif known:
            where = f"the database schema is at revision {current}, behind this version's {head}"
        else:
            where = (f"the database schema is at revision {current}, unknown to this version "
                     f"(head {head}): was it upgraded by a newer version?")
        todo = f"run `{upgrade_command(url)}`" if current is None or known else "run the newer version"
        super().__init__("the database schema is out of date", f"{where}: {todo}")
        self.current, self.head = current, head


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "v%%(rev)s_%%(slug)s")   # a module name (mypy): no leading digit
    cfg.attributes["connection"] = connection
    return cfg


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    """The newest revision (the schema the models describe)."""
    head = _scripts().get_current_head()
    assert head is not None, "no migration in " + str(MIGRATIONS)
    return head


def current_revision(conn: Connection) -> str | None:
    """The database's revision (``None``: not under migrations yet)."""
    return MigrationContext.configure(conn).get_current_revision()


def check_revision(conn: Connection, url: str) -> None:
    """Raise :class:`SchemaOutOfDate` unless the database is at :func:`head_revision`."""
    current, head = current_revision(conn), head_revision()
    if current != head:
        known = current in {s.revision for s in _scripts().walk_revisions()}
        raise SchemaOutOfDate(url, current, head, known=known)


def _adopt(conn: Connection) -> list[str]:
    """Bring a database created before migrations to :data:`BASELINE` and stamp it (nothing
    when it is under migrations already, or empty). What was done, one line each."""
    if current_revision(conn) is not None or not any(inspect(conn).has_table(t) for t in _TABLES):
        return []
    baseline: Any = _scripts().get_revision(BASELINE).module   # its adopt()
    done: list[str] = baseline.adopt(Operations(MigrationContext.configure(conn)))
    command.stamp(_config(conn), BASELINE)
    return [*done, f"stamped revision {BASELINE} (created before migrations)"]


def upgrade_schema(conn: Connection, revision: str = "head") -> list[str]:
    """Upgrade the database to ``revision`` in the caller's transaction (one upgrade at a time
    on PostgreSQL), adopting a database created before migrations first; what adoption did."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({_UPGRADE_LOCK})"))
    done = _adopt(conn)
    command.upgrade(_config(conn), revision)
    return done


def downgrade_schema(conn: Connection, revision: str) -> None:
    """Downgrade the database to ``revision`` (e.g. ``-1``: one step)."""
    command.downgrade(_config(conn), revision)


def schema_differences(conn: Connection) -> list[Any]:
    """What differs between the models and the database (upgraded to head first by the
    caller): Alembic's autogenerate diff, empty when the migrations produce the models."""
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, _Base.metadata))


def new_revision(conn: Connection, message: str) -> Path:
    """Write the next revision (``v<NNNN>_<slug>.py``), autogenerated from what the models
    have and the database (at head) lacks; the file, to review before committing."""
    rev_id = f"{int(head_revision()) + 1:04d}"
    script = command.revision(_config(conn), message=message, autogenerate=True, rev_id=rev_id)
    assert script is not None and not isinstance(script, list)
    return Path(script.path)
