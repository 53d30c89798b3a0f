"""The application history a training command reads: an interactions file (SPEC §7), the
outcomes recorded through ``POST /v1/outcomes`` (``--outcomes-db``), or both.

``--outcomes-db`` takes a database URL, or ``default`` for the configured one
(``RECOMMENDER_DATABASE_URL``, else ``var/recommender.db``): the database the service records
outcomes in. Nothing is created there; a missing or foreign database is bad input (exit 2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from recommender.errors import InputFileError
from recommender.settings import Settings

if TYPE_CHECKING:                    # imported when used: the CLI starts without pandas or SQLAlchemy
    import pandas as pd

    from recommender.store import OutcomeRecord

CONFIGURED = "default"
"""``--outcomes-db default``: the database the service is configured with."""
OutcomesDb = Annotated[str | None, typer.Option(
    "--outcomes-db", metavar="DATABASE_URL|default",
    help="Read the outcomes recorded through POST /v1/outcomes from this database "
         "('default': the configured RECOMMENDER_DATABASE_URL or var/recommender.db).")]
EVENT_COLUMNS = ("firm_id", "policy_id", "event_date", "outcome")


def database_url(value: str) -> str:
    """The URL ``--outcomes-db`` names (``default``: the configured database)."""
    return Settings().resolved_database_url() if value == CONFIGURED else value


def outcome_frame(records: Sequence[OutcomeRecord]) -> pd.DataFrame:
    """Stored outcomes as the interaction log ``train`` reads (SPEC §7 columns, ``event_date``
    as datetime64), with the optional ``model_version`` and ``rank`` they were shown with."""
    import pandas as pd
    return pd.DataFrame({                      # dtypes as read_interactions gives them
        "firm_id": pd.Series([r.firm_id for r in records], dtype=object).astype(str),
        "policy_id": pd.Series([r.policy_id for r in records], dtype=object).astype(str),
        "event_date": pd.to_datetime(pd.Series([r.event_date for r in records], dtype=object)).astype("datetime64[ns]"),
        "outcome": pd.Series([r.outcome for r in records], dtype=object).astype(str),
        "model_version": pd.Series([r.model_version for r in records], dtype=object),
        "rank": pd.array([r.rank for r in records], dtype="Int64")})


def read_outcomes_db(value: str) -> list[OutcomeRecord]:
    """Every outcome stored in the database ``--outcomes-db`` names.

    Raises
    ------
    InputFileError
        Naming ``--outcomes-db`` and why: not a URL, no such database, no outcomes table, no
        outcome recorded, or the database cannot be reached.
    """
    from sqlalchemy import exc as sa_exc

    from recommender.store import StoreUnavailable, open_existing_store
    try:
        store = open_existing_store(database_url(value))
        try:
            records = store.outcomes()
        finally:
            store.close()
    except StoreUnavailable as err:
        raise InputFileError(str(err), path="--outcomes-db") from None
    except sa_exc.SQLAlchemyError as err:
        raise InputFileError(f"cannot read the outcomes ({type(err).__name__})", path="--outcomes-db") from None
    if not records:
        raise InputFileError("no outcome is recorded in the database", path="--outcomes-db")
    return records


@dataclass(frozen=True)
class History:
    """The interaction log and what it was read from."""

    events: pd.DataFrame
    files: tuple[Path, ...]
    outcomes: tuple[OutcomeRecord, ...]

    def data_hash(self, registry: Path) -> str:
        """SHA-256 (first 16 hex digits) over the registry's and the files' bytes, then the
        stored outcomes (the same as ``training.file_hash`` when there are none)."""
        h = hashlib.sha256()
        for path in (registry, *self.files):
            h.update(Path(path).read_bytes())
        for r in self.outcomes:
            h.update(r.model_dump_json().encode())
        return h.hexdigest()[:16]


def read_history(interactions: Path | None, outcomes_db: str | None) -> History:
    """The interaction log of ``--interactions``, ``--outcomes-db`` or both (an application in
    both is counted once).

    Raises
    ------
    InputFileError
        When neither is given, or either cannot be read (naming the file or option).
    """
    import pandas as pd

    from recommender.learning.training import read_interactions
    if interactions is None and outcomes_db is None:
        raise InputFileError("give --interactions FILE, --outcomes-db [DATABASE_URL|default], or both",
                             path="--interactions")
    parts: list[pd.DataFrame] = []
    files: tuple[Path, ...] = ()
    outcomes: tuple[OutcomeRecord, ...] = ()
    if interactions is not None:
        parts.append(read_interactions(interactions))
        files = (interactions,)
    if outcomes_db is not None:
        outcomes = tuple(read_outcomes_db(outcomes_db))
        parts.append(outcome_frame(outcomes))
    if len(parts) == 1:
        return History(parts[0], files, outcomes)
    both = pd.concat(parts, ignore_index=True).drop_duplicates(subset=list(EVENT_COLUMNS), ignore_index=True)
    return History(both, files, outcomes)
