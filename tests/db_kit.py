"""Test databases: a fresh one at the schema's head for each call, on the backend under test.

The backends are ``--database-urls`` (or ``RECOMMENDER_TEST_DATABASE_URLS``), comma-separated:
``sqlite`` and/or PostgreSQL server URLs (``postgresql+psycopg://user@127.0.0.1:5432/postgres``).
Default: ``sqlite`` only. The store and API suites are parametrised over them
(``database_backend``, tests/conftest.py); ``.ci/run`` starts a throw-away PostgreSQL and
passes both.

SQLite: a file, copied from one upgraded once per session. PostgreSQL: one database per test
session (dropped at its end), one schema per call in it, upgraded by the migrations (the URL
sets ``search_path`` to that schema), so every test starts empty and nothing is shared.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from recommender.store import connect, upgrade_schema

ENV = "RECOMMENDER_TEST_DATABASE_URLS"
SQLITE = "sqlite"
_current = [SQLITE]
_sqlite_template: list[Path] = []
_pg_sessions: dict[str, tuple[Engine, str]] = {}     # server URL -> (admin engine, session database)
_of_folder: dict[tuple[str, Path], str] = {}          # (backend, var/ folder) -> its database


def backends(option: str | None) -> list[str]:
    """The backends named by the option or the environment (default: SQLite only)."""
    value = option or os.environ.get(ENV) or SQLITE
    return [part.strip() for part in value.split(",") if part.strip()]


def backend_id(backend: str) -> str:
    """A short test id: ``sqlite`` or ``postgresql``."""
    return SQLITE if backend == SQLITE else make_url(backend).get_backend_name()


def current() -> str:
    return _current[-1]


def on_postgresql() -> bool:
    return current() != SQLITE


@contextmanager
def using(backend: str) -> Iterator[None]:
    """Within the block, :func:`fresh_url` makes databases on ``backend``."""
    _current.append(backend)
    try:
        yield
    finally:
        _current.pop()


def upgrade(url: str) -> str:
    """Upgrade the database at ``url`` to head (as ``recommender db upgrade`` does); ``url``."""
    engine = connect(url, create=True)
    try:
        with engine.begin() as conn:
            upgrade_schema(conn)
    finally:
        engine.dispose()
    return url


def _sqlite(folder: Path, name: str) -> str:
    if not _sqlite_template:
        template = Path(tempfile.mkdtemp(prefix="recommender-db-template-")) / "head.db"
        upgrade(f"sqlite:///{template}")
        _sqlite_template.append(template)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template[0], folder / name)
    return f"sqlite:///{folder / name}"


def _admin(server: str) -> tuple[Engine, str]:
    """An autocommit engine on the session's own database of ``server`` (created at first use)."""
    if server not in _pg_sessions:
        name = f"recommender_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        root = create_engine(server, isolation_level="AUTOCOMMIT")
        with root.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        root.dispose()
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        _pg_sessions[server] = (create_engine(url, isolation_level="AUTOCOMMIT"), url)
    return _pg_sessions[server]


def empty_postgresql_url() -> str:
    """A new empty schema on the PostgreSQL server under test, and a URL that uses it."""
    engine, url = _admin(current())
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)


def fresh_url(folder: Path, name: str = "test.db") -> str:
    """A new database at the schema's head on the current backend (SQLite: ``folder/name``)."""
    return _sqlite(folder, name) if not on_postgresql() else upgrade(empty_postgresql_url())


def database_in(folder: Path) -> str:
    """The database of ``folder`` (a service's var/) on the current backend: new at the first
    call, the same one after it, so that two workers made for one var/ share one database."""
    key = (current(), folder.resolve())
    url = _of_folder.get(key)
    if url is None or (not on_postgresql() and not (folder / "test.db").exists()):
        url = _of_folder[key] = fresh_url(folder)
    return url


def empty_url(folder: Path, name: str = "test.db") -> str:
    """A new database with nothing in it (SQLite: ``folder/name``, not created yet)."""
    return f"sqlite:///{folder / name}" if not on_postgresql() else empty_postgresql_url()


def drop_session_databases(server_url: str | None = None) -> None:
    """Drop the PostgreSQL databases this session created (only on ``server_url``, if given:
    before that server is stopped)."""
    for server, (engine, url) in list(_pg_sessions.items()):
        if server_url is not None and server != server_url:
            continue
        engine.dispose()
        root = create_engine(server, isolation_level="AUTOCOMMIT")
        with root.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        root.dispose()
        del _pg_sessions[server]


def shown(url: str) -> str:
    """``url`` as the commands print it (password hidden)."""
    return make_url(url).render_as_string(hide_password=True)


class Outage:
    """A TCP relay in front of the PostgreSQL server under test: the service connects through
    it, and :meth:`stop` makes the database unreachable as a stopped server is (every open
    connection cut, new ones refused) without stopping the server the other tests use."""

    def __init__(self, url: str) -> None:
        import socket
        import threading
        parsed = make_url(url)
        self._target = (parsed.host or "127.0.0.1", parsed.port or 5432)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = parsed.set(host="127.0.0.1", port=self._listener.getsockname()[1]).render_as_string(
            hide_password=False)
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._stopped:
                client.close()
                return
            server = socket.create_connection(self._target)
            with self._lock:
                self._open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: object, dst: object) -> None:
        import socket
        assert isinstance(src, socket.socket) and isinstance(dst, socket.socket)
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        import socket
        self._stopped = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)     # wakes accept(); close() alone would not
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            for s in self._open:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()


class Losable:
    """A fresh database on the current backend that a test can make disappear under the service:
    give the service :attr:`url`; :meth:`lose` deletes the SQLite file (and its WAL), or cuts the
    PostgreSQL relay (:class:`Outage`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.stored_url = fresh_url(folder)
        self._outage = Outage(self.stored_url) if on_postgresql() else None
        self.url = self._outage.url if self._outage is not None else self.stored_url

    def lose(self) -> None:
        if self._outage is not None:
            self._outage.stop()
            return
        for path in self.folder.glob("test.db*"):
            path.unlink()
