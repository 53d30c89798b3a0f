"""``recommender db``: the database schema's migrations (Alembic).

``upgrade`` brings a database to this version's schema (creating it: an SQLite file and its
directory; recognising one created before migrations), ``current`` says where it is,
``downgrade`` goes back, ``check`` compares the models with the migrations, ``revision``
writes the next migration for a developer to review. ``--database-url`` defaults to the
configured database (``RECOMMENDER_DATABASE_URL``, else ``var/recommender.db``). A database
that cannot be reached, or a URL that is not one, is bad input (exit 2).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional, TypeVar

import typer

from recommender.cli.common import fail
from recommender.settings import Settings

if TYPE_CHECKING:                   # imported when used: the CLI starts without SQLAlchemy
    from sqlalchemy.engine import Connection

T = TypeVar("T")
DatabaseUrl = Annotated[Optional[str], typer.Option(
    "--database-url", metavar="URL",
    help="SQLAlchemy URL (default: RECOMMENDER_DATABASE_URL, else var/recommender.db)")]


def _url(value: str | None) -> str:
    return value if value is not None else Settings().resolved_database_url()


def _on(url: str, work: Callable[[Connection], T], *, create: bool = False) -> T:
    """``work`` in one transaction on ``url``; exit 2 saying why when the database cannot be used."""
    from sqlalchemy import exc as sa_exc

    from recommender.store import StoreUnavailable, connect, shown_url
    try:
        engine = connect(url, create=create)
    except StoreUnavailable as err:
        fail(f"--database-url: {err}")
    try:
        with engine.begin() as conn:
            return work(conn)
    except sa_exc.SQLAlchemyError as err:
        fail(f"--database-url: cannot use {shown_url(url)}: {type(err).__name__}: {str(err).splitlines()[0][:200]}")
    finally:
        engine.dispose()


@contextmanager
def _database_at_head(url: str | None) -> Iterator[str]:
    """``url``, or a throw-away SQLite database upgraded to head."""
    if url is not None:
        yield url
        return
    from recommender.store import upgrade_schema
    with tempfile.TemporaryDirectory(prefix="recommender-db-") as tmp:
        scratch = f"sqlite:///{Path(tmp) / 'head.db'}"
        _on(scratch, upgrade_schema, create=True)
        yield scratch


def _where(conn: Connection) -> str:
    from recommender.store import current_revision, head_revision
    current, head = current_revision(conn), head_revision()
    if current is None:
        return "none (not under migrations: run `recommender db upgrade`)"
    return f"{current} (head)" if current == head else f"{current} (head is {head})"


def register(app: typer.Typer) -> None:
    """Add the ``db`` command group to the CLI."""
    db = typer.Typer(no_args_is_help=True, help="Database schema migrations (Alembic): upgrade before serving.")
    app.add_typer(db, name="db")

    @db.command()
    def upgrade(
        revision: Annotated[str, typer.Argument(help="target revision")] = "head",
        database_url: DatabaseUrl = None,
    ) -> None:
        """Upgrade the database to this version's schema (creating it if new)."""
        from recommender.store import current_revision, shown_url, upgrade_schema
        url = _url(database_url)

        def run(conn: Connection) -> tuple[str | None, list[str], str | None]:
            before = current_revision(conn)
            done = upgrade_schema(conn, revision)
            return before, done, current_revision(conn)

        before, done, after = _on(url, run, create=True)
        for line in done:
            typer.echo(line)
        typer.echo(f"{shown_url(url)}: {before or 'empty'} -> {after}")

    @db.command()
    def current(database_url: DatabaseUrl = None) -> None:
        """Print the database's schema revision and whether it is this version's head."""
        typer.echo(_on(_url(database_url), _where))

    @db.command(context_settings={"ignore_unknown_options": True})   # `downgrade -1` is a revision
    def downgrade(
        revision: Annotated[str, typer.Argument(help="target revision (e.g. -1: one step; base: nothing)")],
        database_url: DatabaseUrl = None,
    ) -> None:
        """Downgrade the database to an earlier revision (data in dropped columns is lost)."""
        from recommender.store import downgrade_schema
        url = _url(database_url)
        _on(url, lambda conn: downgrade_schema(conn, revision))
        typer.echo(_on(url, _where))

    @db.command()
    def check(database_url: Annotated[Optional[str], typer.Option(
            "--database-url", metavar="URL",
            help="a database at head to compare (default: a throw-away SQLite one)")] = None) -> None:
        """Compare the models with the migrations: exit 1 listing the differences, if any."""
        from recommender.store import schema_differences
        with _database_at_head(database_url) as url:
            diffs = _on(url, schema_differences)
        for diff in diffs:
            typer.echo(f"differs: {diff}", err=True)
        if diffs:
            typer.echo("the models and the migrations disagree: add a revision (`recommender db revision`)", err=True)
            raise typer.Exit(code=1)
        typer.echo("the models and the migrations agree")

    @db.command()
    def revision(
        message: Annotated[str, typer.Option("--message", "-m", help="what the revision changes")],
        database_url: Annotated[Optional[str], typer.Option(
            "--database-url", metavar="URL",
            help="a database at head to compare (default: a throw-away SQLite one)")] = None,
    ) -> None:
        """Write the next migration, autogenerated from the models (review it before committing)."""
        from recommender.store import new_revision
        with _database_at_head(database_url) as url:
            path = _on(url, lambda conn: new_revision(conn, message))
        typer.echo(f"wrote {path}: review it (autogenerate misses renames and data moves), then "
                   "`recommender db upgrade`")
