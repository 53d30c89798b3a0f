"""The tables (SQLAlchemy 2 ORM) and :class:`Store`, the repository over them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, Integer, String, Text, UniqueConstraint, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from recommender.safe_cells import neutralise
from recommender.store.records import (OUTCOME_COLUMNS, OUTCOME_EXTRAS, AuditEntry, JobRecord, OutcomeRecord,
                                       StoreUnavailable, _clean, _file_identity, _now)

class _Base(DeclarativeBase):
    pass


class _Job(_Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    key_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    input_name: Mapped[str] = mapped_column(String(255))
    input_path: Mapped[str] = mapped_column(Text)
    output_path: Mapped[str] = mapped_column(Text)
    rejects_path: Mapped[str] = mapped_column(Text)
    as_of: Mapped[dt.date] = mapped_column(Date)
    top_k: Mapped[int] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_read: Mapped[int | None] = mapped_column(Integer, nullable=True)
    firms_matched: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rows_rejected: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    catalog_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)


class _Outcome(_Base):
    __tablename__ = "outcomes"
    __table_args__ = (UniqueConstraint(*OUTCOME_COLUMNS, name="uq_outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    firm_id: Mapped[str] = mapped_column(String(64), index=True)
    policy_id: Mapped[str] = mapped_column(String(80))
    event_date: Mapped[dt.date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    key_id: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)


class _Audit(_Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    key_id: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    policy_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    n_firms: Mapped[int] = mapped_column(Integer)
    catalog_version: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(64))


def _unstorable(value: str | None) -> bool:
    """Whether ``value`` holds a NUL, which PostgreSQL text cannot: no stored row has it (stored
    text is validated or cleaned), so a lookup by it finds nothing on every backend instead of
    raising on PostgreSQL."""
    return value is not None and "\x00" in value


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite drops the time zone; every stored time is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def _job(row: _Job) -> JobRecord:
    return JobRecord(
        id=row.id, state=row.state, key_id=row.key_id,  # type: ignore[arg-type]  # stored strings are the Literal states they were written as
        created_at=_aware(row.created_at), started_at=_aware(row.started_at),  # type: ignore[arg-type]  # stored strings are the Literal states they were written as
        finished_at=_aware(row.finished_at), input_name=row.input_name,
        input_path=Path(row.input_path), output_path=Path(row.output_path),
        rejects_path=Path(row.rejects_path), as_of=row.as_of, top_k=row.top_k,
        rows_done=row.rows_done, chunks_done=row.chunks_done, rows_read=row.rows_read,
        firms_matched=row.firms_matched, rows_rejected=row.rows_rejected, attempts=row.attempts,
        error=row.error, catalog_version=row.catalog_version, model_version=row.model_version)


class Store:
    """Repository of jobs, outcomes and audit entries over one SQLAlchemy engine.

    ``file``: the SQLite database file, if the database is one. Its identity (device and
    inode) is recorded now; when the file is later deleted or replaced, every call raises
    :class:`StoreUnavailable` instead of reading from, or committing into, a file that a
    restart would no longer find (it is checked before each transaction and before each commit).
    """

    def __init__(self, engine: Engine, *, file: Path | None = None) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._file = file
        self._identity = _file_identity(file) if file is not None else None

    def check_file(self) -> None:
        """Raise :class:`StoreUnavailable` if the database file is no longer the one opened."""
        if self._file is not None and _file_identity(self._file) != self._identity:
            raise StoreUnavailable("the database file was deleted or replaced while in use",
                                   f"the database file {self._file} was deleted or replaced while in use")

    @contextmanager
    def _session(self) -> Iterator[Session]:
        self.check_file()
        with self._sessions.begin() as session:
            yield session
            self.check_file()                # nothing is committed into a deleted file

    def ping(self) -> bool:
        """True when the database answers a trivial query (and its file is the one opened)."""
        self.check_file()
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar() == 1

    def close(self) -> None:
        self.engine.dispose()

    # --- jobs ------------------------------------------------------------------------
    def create_job(self, *, key_id: str, input_name: str, input_path: Path, output_path: Path,
                   rejects_path: Path, as_of: dt.date, top_k: int, job_id: str | None = None) -> JobRecord:
        created = dt.datetime.now(dt.timezone.utc)   # microseconds kept: the order of a key's jobs
        row = _Job(id=job_id or str(uuid.uuid4()), state="queued", key_id=key_id, created_at=created,
                   input_name=_clean(input_name, 255), input_path=str(input_path), output_path=str(output_path),
                   rejects_path=str(rejects_path), as_of=as_of, top_k=top_k, rows_done=0,
                   chunks_done=0, attempts=0)
        with self._session() as s:
            s.add(row)
        return _job(row)

    def get_job(self, job_id: str) -> JobRecord | None:
        if _unstorable(job_id):
            return None
        with self._session() as s:
            row = s.get(_Job, job_id)
            return _job(row) if row is not None else None

    def list_jobs(self, *, key_id: str | None, limit: int, offset: int = 0) -> tuple[list[JobRecord], int]:
        """Jobs created by ``key_id`` (``None``: every job), newest first: ``limit`` of them
        after skipping ``offset``, and how many there are in all."""
        query = select(_Job)
        count = select(func.count()).select_from(_Job)
        if key_id is not None:
            query, count = query.where(_Job.key_id == key_id), count.where(_Job.key_id == key_id)
        with self._session() as s:
            rows = s.scalars(query.order_by(_Job.created_at.desc(), _Job.id.desc())
                             .limit(limit).offset(offset)).all()
            return [_job(r) for r in rows], int(s.scalar(count) or 0)

    def _update_job(self, job_id: str, **values: Any) -> None:
        with self._session() as s:
            s.execute(update(_Job).where(_Job.id == job_id).values(**values))

    def claim_next_job(self, *, catalog_version: str, model_version: str) -> JobRecord | None:
        """The oldest queued job, now marked running under these versions (``None`` when none
        is queued). The claim is a conditional update (``state = 'queued'``): of runners racing
        for one job (threads, or worker processes sharing the database) exactly one gets it."""
        while True:
            with self._session() as s:
                job_id = s.scalars(select(_Job.id).where(_Job.state == "queued")
                                   .order_by(_Job.created_at, _Job.id).limit(1)).first()
                if job_id is None:
                    return None
                claimed = s.execute(
                    update(_Job).where(_Job.id == job_id, _Job.state == "queued")
                    .values(state="running", started_at=_now(), attempts=_Job.attempts + 1,
                            catalog_version=catalog_version, model_version=model_version))
                if claimed.rowcount == 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE has rowcount
                    row = s.get(_Job, job_id)
                    assert row is not None
                    return _job(row)
            # another runner claimed it between the two statements: look again

    def requeue_running(self) -> int:
        """Put jobs left ``running`` by a runner that stopped or died back in the queue (they
        resume from their checkpoints); the number requeued."""
        with self._session() as s:
            result = s.execute(update(_Job).where(_Job.state == "running").values(state="queued"))
            return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE has rowcount

    def requeue_job(self, job_id: str) -> bool:
        """Put one job back in the queue if it is still ``running`` (its runner gave it up);
        whether it was."""
        with self._session() as s:
            result = s.execute(update(_Job).where(_Job.id == job_id, _Job.state == "running")
                               .values(state="queued"))
            return int(result.rowcount) == 1  # type: ignore[attr-defined]  # CursorResult of an UPDATE has rowcount

    def record_progress(self, job_id: str, *, rows_done: int, chunks_done: int) -> None:
        self._update_job(job_id, rows_done=rows_done, chunks_done=chunks_done)

    def mark_succeeded(self, job_id: str, *, rows_read: int, firms_matched: int, rows_rejected: int) -> None:
        self._update_job(job_id, state="succeeded", finished_at=_now(), rows_read=rows_read,
                         rows_done=rows_read, firms_matched=firms_matched, rows_rejected=rows_rejected,
                         error=None)

    def mark_failed(self, job_id: str, *, error: str) -> None:
        self._update_job(job_id, state="failed", finished_at=_now(),
                         error=_clean(error, 2000, keep_newlines=True))

    # --- outcomes --------------------------------------------------------------------
    def add_outcomes(self, records: list[OutcomeRecord], *, key_id: str) -> tuple[int, int]:
        """Store outcomes; a row for an application already stored (same firm, policy, date and
        outcome, whatever its model version and rank) is skipped, the first one kept.

        Returns
        -------
        (recorded, duplicates) : tuple of int
        """
        batch = list({r.key(): r for r in reversed(records)}.values())[::-1]   # one row per application, the first
        try:
            fresh = self._insert_new(batch, key_id)
        except IntegrityError:                               # a concurrent call won a race
            fresh = 0
            for rec in batch:
                try:
                    fresh += self._insert_new([rec], key_id)
                except IntegrityError:
                    pass
        return fresh, len(records) - fresh

    def _insert_new(self, batch: list[OutcomeRecord], key_id: str) -> int:
        now = _now()
        with self._session() as s:
            firms = {r.firm_id for r in batch}
            existing = {(r.firm_id, r.policy_id, r.event_date, r.outcome) for r in s.scalars(
                select(_Outcome).where(_Outcome.firm_id.in_(firms)))} if firms else set()
            new = [r for r in batch if r.key() not in existing]
            s.add_all([_Outcome(firm_id=r.firm_id, policy_id=r.policy_id, event_date=r.event_date,
                                outcome=r.outcome, recorded_at=now, key_id=key_id,
                                model_version=r.model_version, rank=r.rank) for r in new])
            return len(new)

    def outcomes(self, *, policy_id: str | None = None) -> list[OutcomeRecord]:
        """Stored outcomes by event date, then firm and policy."""
        if _unstorable(policy_id):
            return []
        with self._session() as s:
            query = select(_Outcome).order_by(_Outcome.event_date, _Outcome.firm_id, _Outcome.policy_id)
            if policy_id is not None:
                query = query.where(_Outcome.policy_id == policy_id)
            return [OutcomeRecord(firm_id=r.firm_id, policy_id=r.policy_id, event_date=r.event_date,
                                  outcome=r.outcome, model_version=r.model_version, rank=r.rank)
                    for r in s.scalars(query)]

    def recent_outcomes(self, *, key_id: str, limit: int = 50) -> list[tuple[OutcomeRecord, dt.datetime]]:
        """The outcomes recorded under ``key_id``, most recently recorded first, with when."""
        with self._session() as s:
            query = (select(_Outcome).where(_Outcome.key_id == key_id)
                     .order_by(_Outcome.recorded_at.desc(), _Outcome.id.desc()).limit(limit))
            return [(OutcomeRecord(firm_id=r.firm_id, policy_id=r.policy_id, event_date=r.event_date,
                                   outcome=r.outcome), _aware(r.recorded_at) or r.recorded_at)
                    for r in s.scalars(query)]

    def export_outcomes_csv(self, *, policy_id: str | None = None) -> str:
        """The outcomes as a SPEC §7 interactions CSV (``firm_id,policy_id,event_date,outcome``,
        then the optional ``model_version,rank``, empty where not given), formula-like text
        cells guarded (:mod:`recommender.safe_cells`)."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(OUTCOME_COLUMNS + OUTCOME_EXTRAS)
        for r in self.outcomes(policy_id=policy_id):
            writer.writerow([neutralise(v) for v in (r.firm_id, r.policy_id, r.event_date.isoformat(), r.outcome,
                                                     r.model_version or "")] + ["" if r.rank is None else r.rank])
        return buf.getvalue()

    # --- audit -----------------------------------------------------------------------
    def audit(self, *, key_id: str, role: str, action: str, n_firms: int, catalog_version: str,
              model_version: str, policy_id: str | None = None, job_id: str | None = None) -> None:
        with self._session() as s:
            s.add(_Audit(at=_now(), key_id=key_id, role=role, action=action,
                         policy_id=None if policy_id is None else _clean(policy_id, 80),
                         job_id=None if job_id is None else _clean(job_id, 36), n_firms=n_firms, catalog_version=catalog_version,
                         model_version=model_version))

    def audit_entries(self, *, limit: int = 100) -> list[AuditEntry]:
        """The latest entries, newest first."""
        with self._session() as s:
            rows = s.scalars(select(_Audit).order_by(_Audit.id.desc()).limit(limit)).all()
            return [AuditEntry(at=_aware(r.at), key_id=r.key_id, role=r.role,  # type: ignore[arg-type]  # stored strings are the Literal roles they were written as
                               action=r.action, policy_id=r.policy_id, job_id=r.job_id,
                               n_firms=r.n_firms, catalog_version=r.catalog_version,
                               model_version=r.model_version) for r in rows]
