"""``recommender serve``: the HTTP API (SPEC §6), run by uvicorn.

The app is named by its factory *string* ``api.main:create_app``, so this package never
imports ``api`` (layers: api → recommender); the log formatters are named the same way.

Before uvicorn starts, ``serve``

* points ``PROMETHEUS_MULTIPROC_DIR`` at ``<var_dir>/metrics``, emptied of a previous run's
  files, so that every worker process writes its metrics there and ``GET /metrics`` merges them
  (the variable must be set before a worker imports ``prometheus_client``: workers are started
  from this process and inherit it);
* configures logging in every worker: one handler on stderr, JSON lines or text
  (``RECOMMENDER_LOG_FORMAT``) at ``RECOMMENDER_LOG_LEVEL``, carrying the request and job ids.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from recommender.cli.common import fail
from recommender.settings import Settings

APP_FACTORY = "api.main:create_app"
FORMATTERS = {"json": "api.logs.JsonFormatter", "text": "api.logs.TextFormatter"}
CONTEXT_FILTER = "api.logs.ContextFilter"
METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def log_config(fmt: str, level: str) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of a worker: everything (uvicorn's lines too) through
    one stderr handler with the request and job ids, formatted as ``fmt`` (``json``/``text``)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": CONTEXT_FILTER}},
        "formatters": {"main": {"()": FORMATTERS[fmt]}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "main", "filters": ["context"]}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {name: {"handlers": [], "propagate": True}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def prepare_metrics_dir(path: Path) -> Path:
    """Create ``path`` and remove a previous run's metric files from it."""
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.db"):
        old.unlink()
    return path


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
        """Serve the API (bundled catalog, default model, SQLite under var/; see docs/api.md and
        docs/deploy.md). The database must be at this version's schema (`recommender db upgrade` first)."""
        import uvicorn

        try:
            settings = Settings()
        except ValidationError as err:
            fail("; ".join(f"RECOMMENDER_{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in err.errors()))
        check_database(settings.resolved_database_url())
        os.environ[METRICS_ENV] = str(prepare_metrics_dir(settings.var_dir / "metrics"))
        uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers,
                    log_config=log_config(settings.log_format, settings.log_level),
                    log_level=settings.log_level, access_log=False)
