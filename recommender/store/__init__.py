"""Domain persistence: bulk jobs, application outcomes and the audit log (SQLAlchemy 2).

Why here and not in ``api/``: outcomes are SPEC §7 interaction rows, the training data of
the next ranker (``export_outcomes_csv`` writes exactly what ``recommender train
--interactions`` reads), and jobs are bulk registry runs (:mod:`recommender.bulk.run`). Neither
is about HTTP; a CLI or a scheduler could use them without the service. The API only calls
the repository methods of :class:`Store`.

Nothing connects at import: :func:`open_store` builds the engine from a URL given by the
caller (``Settings.resolved_database_url()``), creates missing tables and columns and returns a
:class:`Store` (:func:`open_existing_store` creates nothing: ``recommender train --outcomes-db``).
Any SQLAlchemy URL works; SQLite files are the default.

What is stored never includes a firm's financial figures: the audit log keeps who (an API
key id, never the key), when, which action and policy, how many firms, and the catalog and
model versions; jobs keep file paths and row counts.

The names below are the package's public surface, imported lazily (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.store.opening import open_existing_store, open_store
    from recommender.store.records import (OUTCOME_COLUMNS, OUTCOME_EXTRAS, SQLITE_BUSY_MS, AuditEntry, JobRecord,
                                           JobState, OutcomeRecord, StoreUnavailable, database_down)
    from recommender.store.repository import Store

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
}
__all__ = [
    "AuditEntry", "JobRecord", "JobState", "OUTCOME_COLUMNS", "OUTCOME_EXTRAS", "OutcomeRecord",
    "SQLITE_BUSY_MS", "Store", "StoreUnavailable", "database_down", "open_existing_store", "open_store"
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
