"""A throw-away PostgreSQL cluster for the several-hosts tests.

:func:`start_cluster` runs ``initdb`` and ``pg_ctl`` (as the ``postgres`` user when the tests
run as root) in a temporary directory, listening on a free loopback port with trust
authentication and no fsync; the tests make their databases on it with :mod:`tests.db_kit`.
A running server is used instead when ``RECOMMENDER_TEST_PG_URL`` names one (a server URL,
e.g. ``postgresql+psycopg://postgres@127.0.0.1:5433/postgres``), or the PostgreSQL entry of
``RECOMMENDER_TEST_DATABASE_URLS`` (the backends CI runs the store and API suites on).
:func:`why_no_postgres` says why no server can be had (no binaries, no driver), for a skip reason.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests import db_kit
from tests.api.api_testkit import free_port

URL_ENV = "RECOMMENDER_TEST_PG_URL"
BACKENDS_ENV = "RECOMMENDER_TEST_DATABASE_URLS"


def server_url() -> str | None:
    """The running PostgreSQL server the environment names, if any."""
    named = [os.environ.get(URL_ENV, "")] + os.environ.get(BACKENDS_ENV, "").split(",")
    return next((u.strip() for u in named if u.strip().startswith("postgresql")), None)


def pg_bin() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``: ``$PATH``, else the newest Debian
    ``/usr/lib/postgresql/<version>/bin``."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


def why_no_postgres() -> str | None:
    """Why no PostgreSQL can be used for the tests (``None``: it can)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg (PostgreSQL driver) is not installed: pip install -e '.[postgres]'"
    if server_url() is not None:
        return None
    if pg_bin() is None:
        return ("no PostgreSQL binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin: "
                f"apt-get install postgresql, or set {URL_ENV}")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the cluster as"
    return None


@dataclass
class Cluster:
    """A PostgreSQL server the tests may create databases in (and stop, if they started it)."""

    server_url: str
    data_dir: Path | None = None
    pg_ctl: Path | None = None

    def stop(self) -> None:
        """Stop and remove the cluster if this session started it (a server named by the
        environment is left running; ``tests/conftest.py`` drops what the tests made there)."""
        if self.data_dir is not None and self.pg_ctl is not None:
            db_kit.drop_session_databases(self.server_url)       # while the server still answers
            _as_postgres([str(self.pg_ctl), "-D", str(self.data_dir / "data"), "-m", "immediate", "-w", "stop"])
            shutil.rmtree(self.data_dir, ignore_errors=True)


def _as_postgres(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` as the ``postgres`` user when root (PostgreSQL refuses to run as root)."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)


def start_cluster() -> Cluster:
    """Start a throw-away cluster (or use ``$RECOMMENDER_TEST_PG_URL``); see the module doc."""
    running = server_url()
    if running is not None:
        return Cluster(server_url=running)
    bindir = pg_bin()
    assert bindir is not None, why_no_postgres()
    base = Path(tempfile.mkdtemp(prefix="recommender-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
    port = free_port()
    _as_postgres([str(bindir / "initdb"), "-D", str(base / "data"), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--no-sync"])
    opts = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200")
    _as_postgres([str(bindir / "pg_ctl"), "-D", str(base / "data"), "-o", opts, "-l", str(base / "log"),
                  "-w", "-t", "60", "start"])
    return Cluster(server_url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
                   data_dir=base, pg_ctl=bindir / "pg_ctl")
