"""``recommender serve``: the HTTP API (SPEC §6), run by uvicorn.

The app is named by its factory *string* ``api.main:create_app``, so this package never
imports ``api`` (layers: api → recommender).
"""

from __future__ import annotations

from typing import Annotated

import typer

from recommender.cli.common import fail
from recommender.settings import Settings

APP_FACTORY = "api.main:create_app"


def check_database(url: str) -> None:
    """Exit 2 with the command to run when the database is not at this version's schema (the
    service would refuse to start: :class:`~recommender.store.SchemaOutOfDate`). One that cannot
    be reached is left to uvicorn's start-up, which logs the driver's error."""
    from sqlalchemy import exc as sa_exc

    from recommender.store import StoreUnavailable, open_store
    try:
        open_store(url).close()
    except StoreUnavailable as err:
        fail(f"database: {err}")
    except sa_exc.SQLAlchemyError:
        pass


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to the CLI."""

    @app.command()
    def serve(
        host: Annotated[str, typer.Option("--host", help="interface to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port")] = 8000,
        workers: Annotated[int, typer.Option("--workers", min=1, help="worker processes")] = 1,
    ) -> None:
        """Serve the API (bundled catalog, default model, SQLite under var/; see docs/api.md).
        The database must be at this version's schema (`recommender db upgrade` first)."""
        import uvicorn

        check_database(Settings().resolved_database_url())

        uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers,
                    log_level="info", access_log=False)
