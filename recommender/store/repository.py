"""The tables (SQLAlchemy 2 ORM) and :class:`Store`, the repository over them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import (ColumnElement, Date, DateTime, Integer, String, Text, UniqueConstraint, and_, func, or_,
                        select, text, update)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from recommender.safe_cells import neutralise
from recommender.store.records import (OUTCOME_COLUMNS, OUTCOME_EXTRAS, AuditEntry, JobRecord, OutcomeRecord,
                                       StoreUnavailable, _clean, _file_identity, _now)


class JobTally(NamedTuple):
    """The jobs in one state: how many, and the rows they matched and rejected."""

    state: str
    jobs: int
    firms_matched: int
    rows_rejected: int


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
    claimed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class _ServiceState(_Base):
    """Named counters every service process polls; one row, ``reload``: the generation of the
    catalog and model (raised by each reload, followed by every other process)."""

    __tablename__ = "service_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)
    catalog_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


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
        error=row.error, catalog_version=row.catalog_version, model_version=row.model_version,
        claimed_by=row.claimed_by, lease_expires_at=_aware(row.lease_expires_at))


def _claimable(now: dt.datetime) -> ColumnElement[bool]:
    """A job a runner may claim: queued, or running under a lease that expired before ``now``
    (its worker died or lost the database)."""
    return or_(_Job.state == "queued", and_(_Job.state == "running", _Job.lease_expires_at < now))


def _held(job_id: str, claimant: str | None) -> ColumnElement[bool]:
    """Job ``job_id``, while running under the claim ``claimant`` (``None``: whoever holds it)."""
    if claimant is None:
        return _Job.id == job_id
    return and_(_Job.id == job_id, _Job.state == "running", _Job.claimed_by == claimant)


def _rowcount(result: Any) -> int:
    return int(result.rowcount)        # the CursorResult of an UPDATE


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

    def job_tallies(self) -> list[JobTally]:
        """Every job state present, with its number of jobs and their matched and rejected
        rows (counted once a job has succeeded): the figures of ``GET /metrics``. One query."""
        query = (select(_Job.state, func.count(), func.coalesce(func.sum(_Job.firms_matched), 0),
                        func.coalesce(func.sum(_Job.rows_rejected), 0))
                 .group_by(_Job.state).order_by(_Job.state))
        with self._session() as s:
            return [JobTally(str(state), int(n), int(matched or 0), int(rejected or 0))
                    for state, n, matched, rejected in s.execute(query)]

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

    def _update_job(self, job_id: str, claimant: str | None, **values: Any) -> bool:
        """Update the job (only while running under ``claimant``, if given); whether it was."""
        with self._session() as s:
            return _rowcount(s.execute(update(_Job).where(_held(job_id, claimant)).values(**values))) == 1

    def _clock(self, session: Session) -> dt.datetime:
        """Now, by the database's clock where it has one (PostgreSQL: the hosts' clocks need not
        agree to the second for leases to expire in order), else this host's; UTC."""
        if self.engine.dialect.name == "postgresql":
            now = session.scalar(select(func.clock_timestamp()))
            assert isinstance(now, dt.datetime)
            return now.astimezone(dt.timezone.utc)
        return dt.datetime.now(dt.timezone.utc)

    def claim_next_job(self, *, catalog_version: str, model_version: str, claimant: str | None = None,
                       lease_seconds: float | None = None) -> JobRecord | None:
        """The oldest claimable job — queued, or running under an expired lease (its runner died:
        it resumes from its checkpoints) — now running under ``claimant`` and these versions,
        with a lease of ``lease_seconds`` (``None``: no lease, see :meth:`requeue_running`);
        ``None`` when there is none.

        Of runners racing for one job (threads, processes, hosts) exactly one gets it:
        PostgreSQL locks the candidate row with ``FOR UPDATE SKIP LOCKED`` (the others skip to
        the next job); elsewhere (SQLite, one host) the claim is a conditional update whose
        row count says whether it won.
        """
        while True:
            with self._session() as s:
                now = self._clock(s)
                job_id = s.scalars(select(_Job.id).where(_claimable(now)).order_by(_Job.created_at, _Job.id)
                                   .limit(1).with_for_update(skip_locked=True)).first()
                if job_id is None:
                    return None
                lease = None if lease_seconds is None else now + dt.timedelta(seconds=lease_seconds)
                claimed = s.execute(
                    update(_Job).where(_Job.id == job_id, _claimable(now))
                    .values(state="running", started_at=now.replace(microsecond=0), attempts=_Job.attempts + 1,
                            catalog_version=catalog_version, model_version=model_version,
                            claimed_by=claimant, lease_expires_at=lease))
                if _rowcount(claimed) == 1:
                    row = s.get(_Job, job_id)
                    assert row is not None
                    return _job(row)
            # another runner claimed it between the two statements: look again

    def renew_lease(self, job_id: str, *, claimant: str, lease_seconds: float) -> bool:
        """Extend the lease of a job running under ``claimant`` to ``lease_seconds`` from now;
        False when the claim is lost (another runner took the job over, or it was requeued)."""
        with self._session() as s:
            until = self._clock(s) + dt.timedelta(seconds=lease_seconds)
            return _rowcount(s.execute(update(_Job).where(_held(job_id, claimant))
                                       .values(lease_expires_at=until))) == 1

    def requeue_running(self) -> int:
        """Put jobs left ``running`` without a lease (claimed by a runner of a version before
        leases, or straight through :meth:`claim_next_job` without one) back in the queue; the
        number requeued. A job under a lease is never touched: it is claimable once the lease expires."""
        with self._session() as s:
            return _rowcount(s.execute(update(_Job).where(_Job.state == "running", _Job.lease_expires_at.is_(None))
                                       .values(state="queued", claimed_by=None)))

    def requeue_job(self, job_id: str, *, claimant: str | None = None) -> bool:
        """Put one job back in the queue if it is still ``running`` (under ``claimant``, if
        given: its runner gave it up or stops); whether it was."""
        with self._session() as s:
            return _rowcount(s.execute(update(_Job).where(_held(job_id, claimant), _Job.state == "running")
                                       .values(state="queued", claimed_by=None, lease_expires_at=None))) == 1

    def record_progress(self, job_id: str, *, rows_done: int, chunks_done: int, claimant: str | None = None,
                        lease_seconds: float | None = None) -> bool:
        """Record a finished chunk (and renew the lease by ``lease_seconds``, if given); False
        when ``claimant`` no longer holds the job."""
        with self._session() as s:
            values: dict[str, Any] = {"rows_done": rows_done, "chunks_done": chunks_done}
            if lease_seconds is not None:
                values["lease_expires_at"] = self._clock(s) + dt.timedelta(seconds=lease_seconds)
            return _rowcount(s.execute(update(_Job).where(_held(job_id, claimant)).values(**values))) == 1

    def mark_succeeded(self, job_id: str, *, rows_read: int, firms_matched: int, rows_rejected: int,
                       claimant: str | None = None) -> bool:
        """Record the job's success — only while ``claimant`` (if given) still holds it, so a job
        taken over from a runner thought dead ends exactly once; whether it was recorded."""
        return self._update_job(job_id, claimant, state="succeeded", finished_at=_now(), rows_read=rows_read,
                                rows_done=rows_read, firms_matched=firms_matched, rows_rejected=rows_rejected,
                                error=None, lease_expires_at=None)

    def mark_failed(self, job_id: str, *, error: str, claimant: str | None = None) -> bool:
        """Record the job's failure (conditional on ``claimant`` as :meth:`mark_succeeded`)."""
        return self._update_job(job_id, claimant, state="failed", finished_at=_now(),
                                error=_clean(error, 2000, keep_newlines=True), lease_expires_at=None)

    # --- reload propagation ------------------------------------------------------------
    def reload_generation(self) -> int:
        """How many reloads any service process has recorded (0: none yet)."""
        with self._session() as s:
            row = s.get(_ServiceState, "reload")
            return row.generation if row is not None else 0

    def record_reload(self, *, catalog_version: str, model_version: str) -> int:
        """Count a reload (with the versions it loaded): every other process sees the new
        generation at its next poll and loads the configured catalog and model too; the new
        generation."""
        while True:
            try:
                with self._session() as s:
                    bumped = s.execute(update(_ServiceState).where(_ServiceState.name == "reload").values(
                        generation=_ServiceState.generation + 1, catalog_version=catalog_version,
                        model_version=model_version, updated_at=_now()))
                    if _rowcount(bumped) == 0:
                        s.add(_ServiceState(name="reload", generation=1, catalog_version=catalog_version,
                                            model_version=model_version, updated_at=_now()))
                        s.flush()
                    return int(s.scalar(select(_ServiceState.generation).where(_ServiceState.name == "reload")) or 0)
            except IntegrityError:
                continue                      # another process inserted the row first: bump it

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


# The subscription tables (issue 24) are declared in their own module on this _Base; importing
# it here registers them wherever the metadata is used (create_all, a schema comparison).
from recommender.store import subscriptions as _subscriptions  # noqa: E402,F401
