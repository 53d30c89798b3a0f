"""Opening a database: the engine for a URL (SQLite pragmas, pre-ping elsewhere), checked to be
at this version's schema revision. Nothing here creates tables: ``recommender db upgrade``
(:mod:`recommender.store.schema`) does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url

from recommender.store.records import SQLITE_BUSY_MS, StoreUnavailable
from recommender.store.repository import Store, _Outcome
from recommender.store.schema import SchemaOutOfDate, check_revision, head_revision, shown_url

def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")   # first: the next one may wait for a lock
    cur.execute("PRAGMA journal_mode=WAL")      # readers do not block the job writer
    cur.close()


def _sqlite_file(url: str) -> Path | None:
    """The database file of an SQLite URL (``None``: not SQLite, or in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def _engine(url: str, file: Path | None) -> Engine:
    if file is None:
        return create_engine(url, pool_pre_ping=True)    # connections of a restarted server are replaced
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def connect(url: str, *, create: bool = False) -> Engine:
    """The engine for ``url`` (``create``: an SQLite file may be new, its directory is made).

    Raises
    ------
    StoreUnavailable
        Not a URL, no driver for it, or (unless ``create``) no such SQLite file; the password
        never shown.
    """
    try:
        file = _sqlite_file(url)
    except sa_exc.ArgumentError:
        raise StoreUnavailable("not a database URL (e.g. sqlite:///var/recommender.db)") from None
    if file is not None and create:
        file.parent.mkdir(parents=True, exist_ok=True)
    elif file is not None and not file.is_file():
        raise StoreUnavailable("no database file", f"no database file at {file}")
    try:
        return _engine(url, file)
    except (ImportError, sa_exc.SQLAlchemyError) as err:
        raise StoreUnavailable("cannot open the database", f"cannot open {shown_url(url)}: "
                               f"{type(err).__name__}: {str(err).splitlines()[0][:200]}") from None


def open_store(url: str) -> Store:
    """Connect to ``url``, which must be at this version's schema revision.

    Raises
    ------
    SchemaOutOfDate
        The database is new, behind or ahead: the message says which command to run.
    """
    file = _sqlite_file(url)
    if file is not None and not file.is_file():
        raise SchemaOutOfDate(url, None, head_revision(), known=True)
    engine = _engine(url, file)
    try:
        with engine.connect() as conn:
            check_revision(conn, url)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, file=file.resolve() if file is not None else None)


def open_existing_store(url: str) -> Store:
    """The store of an existing recommender database (with an ``outcomes`` table, at this
    version's schema revision); nothing is created where there is none. Raises
    :class:`StoreUnavailable` saying why (not a URL, no driver, no such file, unreachable, no
    outcomes table, schema out of date), never showing the password."""
    engine = connect(url)
    file = _sqlite_file(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(_Outcome.__tablename__):
                raise StoreUnavailable("no outcomes table",
                                       f"{shown_url(url)} has no outcomes table (not a recommender database)")
            check_revision(conn, url)
    except (ImportError, sa_exc.SQLAlchemyError) as err:
        engine.dispose()
        raise StoreUnavailable("cannot open the database", f"cannot open {shown_url(url)}: {type(err).__name__}: "
                               f"{str(err).splitlines()[0][:200]}") from None
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, file=file.resolve() if file is not None else None)
