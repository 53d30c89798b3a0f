"""``recommender alerts run`` and ``recommender alerts outbox`` (issue 24, SPEC §10).

``run`` evaluates every subscription in the configured database (``RECOMMENDER_DATABASE_URL``
or ``var/recommender.db``) as of ``--as-of`` against the configured catalog and delivers the
alerts due; it prints the run's summary as one JSON line. Exit 0 after a run, 1 when another
runner holds the lease (nothing was done), 2 on bad input (a date, a broken catalog, a
database that cannot be opened).
"""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from recommender.alerts import AlertsConfig, run_alerts
from recommender.cli.common import AsOf, fail, parse_as_of
from recommender.errors import RecommenderError
from recommender.matching import load_matcher
from recommender.settings import Settings
from recommender.store import StoreUnavailable, Subscriptions, database_down, open_store


def run(as_of: AsOf = None) -> None:
    """Evaluate every subscription as of the date and deliver new alerts (one JSON line out)."""
    day = parse_as_of(as_of)
    settings = Settings()
    try:
        matcher = load_matcher(settings, model_fallback=True, one_firm=True)
        store = open_store(settings.resolved_database_url())
    except RecommenderError as err:
        fail(str(err))
    except Exception as err:  # noqa: BLE001 - a database that cannot be opened is bad input here
        if not database_down(err) and not isinstance(err, (StoreUnavailable, ImportError)):
            raise
        fail(f"database: {type(err).__name__}: {str(err).splitlines()[0][:200]}")
    try:
        summary = run_alerts(store, matcher, AlertsConfig.from_settings(settings), as_of=day)
    finally:
        store.close()
    typer.echo(json.dumps(summary, ensure_ascii=False))
    if summary["lease"] == "busy":
        typer.echo("another alerts run holds the lease; nothing done", err=True)
        raise typer.Exit(code=1)


def outbox(
    state: Annotated[Optional[str], typer.Option("--state", help="only rows in this state: pending, "
                                                 "sending, delivered or dead")] = None,
) -> None:
    """List the outbox (one JSON line per alert and channel: subscription, policy, kind, window,
    channel, state, attempts, last error); never the payload."""
    if state is not None and state not in ("pending", "sending", "delivered", "dead"):
        fail(f"--state: {state!r} is not one of pending, sending, delivered, dead")
    settings = Settings()
    store = open_store(settings.resolved_database_url())
    try:
        for row in Subscriptions(store).outbox():
            if state is None or row["state"] == state:
                typer.echo(json.dumps(row, ensure_ascii=False))
    finally:
        store.close()


def register(app: typer.Typer) -> None:
    """Add the ``alerts`` command group to the CLI app."""
    group = typer.Typer(no_args_is_help=True, help="Subscriptions' alerts: evaluate and deliver (SPEC §10).")
    group.command("run")(run)
    group.command("outbox")(outbox)
    app.add_typer(group, name="alerts")
