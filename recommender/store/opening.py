"""Opening a database: the engine for a URL (SQLite pragmas, pre-ping elsewhere), tables and
columns created or added, or an existing database opened without creating anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url

from recommender.store.records import OUTCOME_EXTRAS, SQLITE_BUSY_MS, StoreUnavailable
from recommender.store.repository import Store, _Base, _Outcome

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


def _add_missing_columns(engine: Engine) -> None:
    """Add the :data:`OUTCOME_EXTRAS` columns (nullable: not given) to an ``outcomes`` table
    created before them (a failure because another process just added one is no failure)."""
    name, quote = _Outcome.__tablename__, engine.dialect.identifier_preparer.quote
    have = {c["name"] for c in inspect(engine).get_columns(name)}
    for col in [_Outcome.__table__.c[c] for c in OUTCOME_EXTRAS if c not in have]:
        try:
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {quote(name)} ADD COLUMN {quote(col.name)} "
                                  f"{col.type.compile(dialect=engine.dialect)}"))
        except (sa_exc.OperationalError, sa_exc.ProgrammingError):
            if col.name not in {c["name"] for c in inspect(engine).get_columns(name)}:
                raise


def open_store(url: str) -> Store:
    """Connect to ``url`` (creating an SQLite file's directory), create missing tables and
    columns (:func:`_add_missing_columns`)."""
    file = _sqlite_file(url)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
    engine = _engine(url, file)
    _Base.metadata.create_all(engine)
    _add_missing_columns(engine)
    return Store(engine, file=file.resolve() if file is not None else None)


def open_existing_store(url: str) -> Store:
    """The store of an existing recommender database (with an ``outcomes`` table); nothing is
    created where there is none. Raises :class:`StoreUnavailable` saying why (not a URL, no
    driver, no such file, unreachable, no outcomes table), never showing the password."""
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        raise StoreUnavailable("not a database URL (e.g. sqlite:///var/recommender.db)") from None
    file = _sqlite_file(url)
    if file is not None and not file.is_file():
        raise StoreUnavailable("no database file", f"no database file at {file}")
    try:
        engine = _engine(url, file)
        if not inspect(engine).has_table(_Outcome.__tablename__):
            raise StoreUnavailable("no outcomes table", f"{shown} has no outcomes table (not a recommender database)")
        _add_missing_columns(engine)
    except (ImportError, sa_exc.SQLAlchemyError) as err:
        raise StoreUnavailable("cannot open the database", f"cannot open {shown}: {type(err).__name__}: "
                               f"{str(err).splitlines()[0][:200]}") from None
    return Store(engine, file=file.resolve() if file is not None else None)
