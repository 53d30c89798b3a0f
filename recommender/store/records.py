"""What the store keeps and returns: outcome rows (SPEC §7), job and audit records, and the
"database unavailable" error every caller maps to 503."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc as sa_exc

from recommender.profile import IsoDate

JobState = Literal["queued", "running", "succeeded", "failed"]
OUTCOME_COLUMNS = ("firm_id", "policy_id", "event_date", "outcome")
"""What identifies an application outcome (a row with the same four values is a duplicate)."""
OUTCOME_EXTRAS = ("model_version", "rank")
"""Optional: the model version and rank shown when the policy was recommended (for later
position-bias correction); added to older databases by ``recommender db upgrade``."""
SQLITE_BUSY_MS = 5000
"""How long an SQLite statement waits for another connection's lock before failing ("database
is locked"): a locked database gives an error in bounded time, never a hung request."""
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


class StoreUnavailable(RuntimeError):
    """The database cannot be used now; ``reason`` is safe to show a client (no paths)."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(detail or reason)
        self.reason = reason


def database_down(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is unavailable (unreachable, locked, restarting, its
    file deleted or replaced, no connection free) rather than a fault in a query or the data."""
    if isinstance(exc, (StoreUnavailable, sa_exc.OperationalError, sa_exc.InterfaceError,
                        sa_exc.TimeoutError, sa_exc.DisconnectionError)):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


def _clean(value: str, limit: int, *, keep_newlines: bool = False) -> str:
    """``value`` without control characters (a NUL cannot be stored in PostgreSQL text),
    cut to ``limit`` characters."""
    return (_CONTROL if keep_newlines else _CONTROL_OR_NEWLINE).sub("", value)[:limit]


def _file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of ``path``; ``None`` when it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


class OutcomeRecord(BaseModel):
    """One application outcome (SPEC §7 interaction row): feedback for the next training run.

    ``model_version`` and ``rank`` are optional: what the match response that recommended the
    policy said (its ``model_version`` and the match's ``rank``), passed back by the caller."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": [{
        "firm_id": "CQ-001", "policy_id": "cn-tech-sme-evaluation", "event_date": "2022-05-20",
        "outcome": "approved", "model_version": "ltr-e5e9b3aa7006", "rank": 2}]})

    firm_id: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    policy_id: str = Field(min_length=1, max_length=80)
    event_date: IsoDate
    outcome: Literal["approved", "rejected", "applied"]
    model_version: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$",
                                      description="model_version of the match response that showed the policy")
    rank: int | None = Field(None, ge=1, le=100_000, strict=True, description="the policy's rank there (1 = first)")

    def key(self) -> tuple[str, str, dt.date, str]:     # the application (OUTCOME_COLUMNS)
        return self.firm_id, self.policy_id, self.event_date, self.outcome


@dataclass(frozen=True)
class JobRecord:
    """A bulk job as stored (paths, parameters, state and row counts)."""

    id: str
    state: JobState
    key_id: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    input_name: str
    input_path: Path
    output_path: Path
    rejects_path: Path
    as_of: dt.date
    top_k: int
    rows_done: int
    chunks_done: int
    rows_read: int | None
    firms_matched: int | None
    rows_rejected: int | None
    attempts: int
    error: str | None
    catalog_version: str | None
    model_version: str | None
    claimed_by: str | None = None
    """The claim the job runs (ran) under: ``host:pid:random`` of the runner that claimed it last."""
    lease_expires_at: dt.datetime | None = None
    """While running: when another runner may take it over unless the claimant renews the lease."""


@dataclass(frozen=True)
class AuditEntry:
    """One audit-log line: who did what to how many firms, under which versions."""

    at: dt.datetime
    key_id: str
    role: str
    action: str
    policy_id: str | None
    job_id: str | None
    n_firms: int
    catalog_version: str
    model_version: str
