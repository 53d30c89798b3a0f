"""Domain persistence: bulk jobs, application outcomes and the audit log (SQLAlchemy 2).

Why here and not in ``api/``: outcomes are SPEC §7 interaction rows, the training data of
the next ranker (``export_outcomes_csv`` writes exactly what ``recommender train
--interactions`` reads), and jobs are bulk registry runs (:mod:`recommender.bulk.run`). Neither
is about HTTP; a CLI or a scheduler could use them without the service. The API only calls
the repository methods of :class:`Store`.

Nothing connects at import: :func:`open_store` builds the engine from a URL given by the
caller (``Settings.resolved_database_url()``), checks that the database is at this version's
schema revision and returns a :class:`Store` (:func:`open_existing_store` also checks there is an
outcomes table: ``recommender train --outcomes-db``). Nothing creates tables at start-up: the
Alembic migrations do (:mod:`recommender.store.schema`, ``recommender db upgrade``). SQLite files
are the default; PostgreSQL (``postgresql+psycopg://``, the ``postgres`` extra) is tested too.

What is stored never includes a firm's financial figures: the audit log keeps who (an API
key id, never the key), when, which action and policy, how many firms, and the catalog and
model versions; jobs keep file paths and row counts.

The names below are the package's public surface, imported lazily (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.store.opening import connect, open_existing_store, open_store
    from recommender.store.records import (OUTCOME_COLUMNS, OUTCOME_EXTRAS, SQLITE_BUSY_MS, AuditEntry, JobRecord,
                                           JobState, OutcomeRecord, StoreUnavailable, database_down)
    from recommender.store.repository import Store
    from recommender.store.schema import (SchemaOutOfDate, current_revision, downgrade_schema, head_revision,
                                          new_revision, schema_differences, shown_url, upgrade_command,
                                          upgrade_schema)
    from recommender.store.subscriptions import (AlertKind, Delivery, NewSubscription, OutboxAlert,
                                                 SubscriptionRecord, Subscriptions, token_digest)

_EXPORTS: dict[str, str] = {
    "AuditEntry": "records",
    "JobRecord": "records",
    "JobState": "records",
    "OUTCOME_COLUMNS": "records",
    "OUTCOME_EXTRAS": "records",
    "OutcomeRecord": "records",
    "SQLITE_BUSY_MS": "records",
    "Store": "repository",
    "StoreUnavailable": "records",
    "database_down": "records",
    "open_existing_store": "opening",
    "open_store": "opening",
    "connect": "opening",
    "SchemaOutOfDate": "schema",
    "current_revision": "schema",
    "downgrade_schema": "schema",
    "head_revision": "schema",
    "new_revision": "schema",
    "schema_differences": "schema",
    "upgrade_command": "schema",
    "upgrade_schema": "schema",
    "shown_url": "schema",
    "AlertKind": "subscriptions",
    "Delivery": "subscriptions",
    "NewSubscription": "subscriptions",
    "OutboxAlert": "subscriptions",
    "SubscriptionRecord": "subscriptions",
    "Subscriptions": "subscriptions",
    "token_digest": "subscriptions",
}
__all__ = [
    "AuditEntry", "JobRecord", "JobState", "OUTCOME_COLUMNS", "OUTCOME_EXTRAS", "OutcomeRecord",
    "SQLITE_BUSY_MS", "SchemaOutOfDate", "Store", "StoreUnavailable", "connect", "current_revision",
    "database_down", "downgrade_schema", "head_revision", "new_revision", "open_existing_store", "open_store",
    "schema_differences", "shown_url", "upgrade_command", "upgrade_schema",
    "AlertKind", "Delivery", "NewSubscription", "OutboxAlert", "SubscriptionRecord", "Subscriptions", "token_digest",
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
