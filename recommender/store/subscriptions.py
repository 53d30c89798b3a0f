"""Subscriptions and their alerts (issue 24, SPEC §10): three tables and the repository over them.

* ``subscriptions`` — one firm's profile (SPEC §2, exactly what it gave, as JSON), where to
  deliver (a webhook URL, an e-mail address, or both), what it is interested in (families,
  policies; empty: everything), the unsubscribe token's sha256 (never the token), the signing
  secret, when consent was given and by whom, when it expires, and the *known state*: per
  policy, the verdict, whether it could be applied for, the application window and each
  criterion's outcome (no figures) as of the last run. Deleting a subscription deletes its
  row: the profile is gone.
* ``alert_outbox`` — every alert ever decided, one row per delivery channel of its
  subscription (``webhook``, ``email``), unique per ``(subscription_id, policy_id, kind,
  window_key, channel)``: an insert that would repeat one is a no-op (``ON CONFLICT DO
  NOTHING``), so no alert is decided twice on a channel, whatever runs at the same time.
  Delivery state per row: ``pending`` → ``sending`` (claimed by a conditional update; its
  ``next_attempt_at`` is then the claim's deadline) → ``delivered``, or back to ``pending``
  with a later ``next_attempt_at``, or ``dead`` after the last attempt. Rows delivered
  together (one subscription, one channel) share a ``batch`` id: the ``Idempotency-Key`` of
  their POST (the ``Message-ID`` of their e-mail), the same on every retry.
* ``alerts_lease`` — one row per named lease (``alerts-run``): who holds it until when,
  taken by a conditional update, so one host at a time runs alerts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from recommender.store.records import _now
from recommender.store.repository import Store, _aware, _Base

AlertKind = Literal["new_match", "deadline", "ended"]
Channel = Literal["webhook", "email"]
CHANNELS: tuple[Channel, ...] = ("webhook", "email")
DeliveryState = Literal["pending", "sending", "delivered", "dead"]


class _Subscription(_Base):
    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    firm_id: Mapped[str] = mapped_column(String(64))
    token_sha256: Mapped[str] = mapped_column(String(64))
    secret: Mapped[str] = mapped_column(String(64))
    webhook_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    families: Mapped[str] = mapped_column(Text)          # JSON list
    policies: Mapped[str] = mapped_column(Text)          # JSON list
    profile: Mapped[str] = mapped_column(Text)           # JSON, as the firm gave it
    known: Mapped[str] = mapped_column(Text)             # JSON: policy_id → state (see recommender.alerts)
    consent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    consent_by: Mapped[str] = mapped_column(String(16))  # "firm", or the caseworker's key id
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class _Outbox(_Base):
    __tablename__ = "alert_outbox"
    __table_args__ = (UniqueConstraint("subscription_id", "policy_id", "kind", "window_key", "channel",
                                       name="uq_alert_once_per_channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(String(36), ForeignKey("subscriptions.id", ondelete="CASCADE"),
                                                 index=True)
    policy_id: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    window_key: Mapped[str] = mapped_column(String(32))   # "opens..closes" ("window" is reserved in SQL)
    channel: Mapped[str] = mapped_column(String(8), server_default="webhook")
    payload: Mapped[str] = mapped_column(Text)           # the alert's JSON, as delivered
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16), index=True)
    batch: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)


class _Lease(_Base):
    __tablename__ = "alerts_lease"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    until: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


def token_digest(token: str) -> str:
    """The sha256 hex digest under which an unsubscribe token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SubscriptionRecord:
    """A stored subscription (the profile and known state as parsed JSON)."""

    id: str
    firm_id: str
    secret: str
    webhook_url: str | None
    email: str | None
    families: list[str]
    policies: list[str]
    profile: dict[str, Any]
    known: dict[str, Any]
    consent_at: dt.datetime
    consent_by: str
    created_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True)
class NewSubscription:
    """What :meth:`Subscriptions.create` stores (the token in clear is never stored)."""

    firm_id: str
    token: str
    secret: str
    webhook_url: str | None
    email: str | None
    families: list[str]
    policies: list[str]
    profile: dict[str, Any]
    known: dict[str, Any]
    consent_by: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class OutboxAlert:
    """An alert decided by a run, to be written once (its key) and delivered."""

    policy_id: str
    kind: AlertKind
    window: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Delivery:
    """A claimed batch of one subscription's alerts on one channel: what to send, where
    (the webhook URL or the e-mail address), signed with what."""

    batch: str
    claimed_at: dt.datetime
    subscription_id: str
    channel: Channel
    target: str
    secret: str
    attempts: int
    payloads: list[dict[str, Any]]
    policy_ids: list[str]


def _record(row: _Subscription) -> SubscriptionRecord:
    return SubscriptionRecord(
        id=row.id, firm_id=row.firm_id, secret=row.secret, webhook_url=row.webhook_url, email=row.email,
        families=json.loads(row.families), policies=json.loads(row.policies), profile=json.loads(row.profile),
        known=json.loads(row.known), consent_at=_aware(row.consent_at) or row.consent_at,
        consent_by=row.consent_by, created_at=_aware(row.created_at) or row.created_at,
        expires_at=_aware(row.expires_at) or row.expires_at)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Subscriptions:
    """Repository of subscriptions, their outbox and the alerts lease, over a :class:`Store`'s
    database (same engine, same file checks)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- subscriptions ---------------------------------------------------------------
    def create(self, new: NewSubscription) -> SubscriptionRecord:
        now = _now()
        row = _Subscription(id=str(uuid.uuid4()), firm_id=new.firm_id, token_sha256=token_digest(new.token),
                            secret=new.secret, webhook_url=new.webhook_url, email=new.email,
                            families=_dumps(new.families),
                            policies=_dumps(new.policies), profile=_dumps(new.profile), known=_dumps(new.known),
                            consent_at=now, consent_by=new.consent_by, created_at=now, expires_at=new.expires_at)
        with self.store._session() as s:
            s.add(row)
        return _record(row)

    def get(self, subscription_id: str, token: str) -> SubscriptionRecord | None:
        """The subscription if ``token`` is its unsubscribe token (compared in constant time),
        else ``None`` (unknown id and wrong token look the same to a caller)."""
        with self.store._session() as s:
            row = s.get(_Subscription, subscription_id)
            if row is None or not hmac.compare_digest(row.token_sha256, token_digest(token)):
                return None
            return _record(row)

    def delete(self, subscription_id: str) -> bool:
        """Delete the subscription, its profile and its outbox rows; whether it existed."""
        with self.store._session() as s:
            s.execute(delete(_Outbox).where(_Outbox.subscription_id == subscription_id))
            done = s.execute(delete(_Subscription).where(_Subscription.id == subscription_id))
            return int(done.rowcount) == 1  # type: ignore[attr-defined]  # CursorResult of a DELETE has rowcount

    def renew(self, subscription_id: str, expires_at: dt.datetime) -> None:
        with self.store._session() as s:
            s.execute(update(_Subscription).where(_Subscription.id == subscription_id).values(expires_at=expires_at))

    def ids(self) -> list[str]:
        with self.store._session() as s:
            return list(s.scalars(select(_Subscription.id).order_by(_Subscription.created_at, _Subscription.id)))

    def load(self, subscription_id: str) -> SubscriptionRecord | None:
        """The subscription, without a token (for the runner and the caseworker list)."""
        with self.store._session() as s:
            row = s.get(_Subscription, subscription_id)
            return _record(row) if row is not None else None

    def expired(self, now: dt.datetime) -> list[str]:
        with self.store._session() as s:
            return list(s.scalars(select(_Subscription.id).where(_Subscription.expires_at < now)))

    def count(self) -> int:
        with self.store._session() as s:
            return int(s.scalar(select(func.count()).select_from(_Subscription)) or 0)

    # --- outbox ----------------------------------------------------------------------
    def record_run(self, subscription_id: str, alerts: list[OutboxAlert], known: dict[str, Any],
                   now: dt.datetime | None = None) -> int:
        """In one transaction: write ``alerts`` to the outbox, once per channel of the
        subscription (each key at most once, ever: an alert already there is skipped), due at
        ``now``, and store the new known state; the number of alerts written (an alert sent on
        two channels counts once). Nothing is written when the subscription was deleted
        meanwhile."""
        now = now or _now()
        written = 0
        with self.store._session() as s:
            sub = s.get(_Subscription, subscription_id)
            if sub is None:
                return 0
            channels = [c for c, target in zip(CHANNELS, (sub.webhook_url, sub.email)) if target]
            for a in alerts:
                new = 0
                for channel in channels:
                    values = dict(subscription_id=subscription_id, policy_id=a.policy_id, kind=a.kind,
                                  window_key=a.window, channel=channel,
                                  payload=_dumps(a.payload), created_at=now, state="pending", attempts=0,
                                  next_attempt_at=now)
                    new += self._insert_once(s, values)
                written += new > 0
            s.execute(update(_Subscription).where(_Subscription.id == subscription_id).values(known=_dumps(known)))
        return written

    def _insert_once(self, session: Any, values: dict[str, Any]) -> int:
        dialect = self.store.engine.dialect.name
        if dialect in ("sqlite", "postgresql"):
            maker = sqlite_insert if dialect == "sqlite" else pg_insert
            stmt = maker(_Outbox).values(**values).on_conflict_do_nothing(
                index_elements=["subscription_id", "policy_id", "kind", "window_key", "channel"]).returning(_Outbox.id)
            return len(session.execute(stmt).all())      # a row back: inserted (rowcount is -1 on psycopg)
        try:                                   # another database: a savepoint per insert
            with session.begin_nested():
                session.add(_Outbox(**values))
            return 1
        except IntegrityError:
            return 0

    def release_stale(self, now: dt.datetime) -> int:
        """Put back rows whose claim expired while ``sending`` (their runner died mid-POST):
        they are sent again with the same batch id, hence the same Idempotency-Key."""
        with self.store._session() as s:
            done = s.execute(update(_Outbox).where(_Outbox.state == "sending", _Outbox.next_attempt_at < now)
                             .values(state="pending"))
            return int(done.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE has rowcount

    def due_batches(self, now: dt.datetime) -> list[str]:
        """Give the pending rows without a batch a new batch per subscription and channel,
        then list the batches due for an attempt, oldest first."""
        with self.store._session() as s:
            loose = s.execute(select(_Outbox.subscription_id, _Outbox.channel)
                              .where(_Outbox.state == "pending", _Outbox.batch.is_(None)).distinct()).all()
            for sub, channel in loose:
                s.execute(update(_Outbox).where(_Outbox.subscription_id == sub, _Outbox.channel == channel,
                                                _Outbox.state == "pending", _Outbox.batch.is_(None))
                          .values(batch=str(uuid.uuid4())))
        with self.store._session() as s:
            rows = s.execute(select(_Outbox.batch, func.min(_Outbox.id)).where(
                _Outbox.state == "pending", _Outbox.next_attempt_at <= now).group_by(_Outbox.batch)).all()
            return [str(b) for b, _ in sorted(rows, key=lambda r: r[1]) if b is not None]

    def claim(self, batch: str, *, due: dt.datetime, at: dt.datetime, claim_seconds: float) -> Delivery | None:
        """Claim a batch due at ``due`` for one attempt made at ``at``, held ``claim_seconds``
        (a conditional update: of runners racing for it exactly one gets it); ``None`` if
        another runner has it or it is not due."""
        with self.store._session() as s:
            claimed = s.execute(update(_Outbox).where(_Outbox.batch == batch, _Outbox.state == "pending",
                                                      _Outbox.next_attempt_at <= due)
                                .values(state="sending", attempts=_Outbox.attempts + 1,
                                        next_attempt_at=at + dt.timedelta(seconds=claim_seconds)))
            if int(claimed.rowcount) == 0:  # type: ignore[attr-defined]  # CursorResult of an UPDATE has rowcount
                return None
            rows = s.scalars(select(_Outbox).where(_Outbox.batch == batch, _Outbox.state == "sending")
                             .order_by(_Outbox.id)).all()
            sub = s.get(_Subscription, rows[0].subscription_id)
            assert sub is not None                  # outbox rows are deleted with their subscription
            channel: Channel = "email" if rows[0].channel == "email" else "webhook"
            target = sub.email if channel == "email" else sub.webhook_url
            return Delivery(batch=batch, claimed_at=at, subscription_id=sub.id, channel=channel, target=target or "",
                            secret=sub.secret,
                            attempts=max(r.attempts for r in rows), payloads=[json.loads(r.payload) for r in rows],
                            policy_ids=[r.policy_id for r in rows])

    def delivered(self, batch: str) -> None:
        with self.store._session() as s:
            s.execute(update(_Outbox).where(_Outbox.batch == batch, _Outbox.state == "sending")
                      .values(state="delivered", delivered_at=_now(), last_error=None))

    def failed(self, batch: str, error: str, *, retry_at: dt.datetime | None) -> None:
        """An attempt failed: try again at ``retry_at``, or (``None``) give up: ``dead``."""
        values: dict[str, Any] = {"last_error": error[:300], "state": "dead"}
        if retry_at is not None:
            values.update(state="pending", next_attempt_at=retry_at)
        with self.store._session() as s:
            s.execute(update(_Outbox).where(_Outbox.batch == batch, _Outbox.state == "sending").values(**values))

    def outbox(self, subscription_id: str | None = None) -> list[dict[str, Any]]:
        """Outbox rows (oldest first) as plain dicts: key, state, attempts, batch, error."""
        query = select(_Outbox).order_by(_Outbox.id)
        if subscription_id is not None:
            query = query.where(_Outbox.subscription_id == subscription_id)
        with self.store._session() as s:
            return [{"subscription_id": r.subscription_id, "policy_id": r.policy_id, "kind": r.kind,
                     "window": r.window_key, "channel": r.channel, "state": r.state, "attempts": r.attempts,
                     "batch": r.batch, "last_error": r.last_error} for r in s.scalars(query)]

    # --- lease -----------------------------------------------------------------------
    def take_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Hold the lease ``name`` for ``seconds`` if it is free, expired or already ours."""
        now = _now()
        until = now + dt.timedelta(seconds=seconds)
        with self.store._session() as s:
            taken = s.execute(update(_Lease).where(_Lease.name == name, (_Lease.until < now) | (_Lease.holder == holder))
                              .values(holder=holder, until=until))
            if int(taken.rowcount) == 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE has rowcount
                return True
            if s.get(_Lease, name) is not None:
                return False
        try:
            with self.store._session() as s:
                s.add(_Lease(name=name, holder=holder, until=until))
            return True
        except IntegrityError:                 # another runner created it first
            return False

    def release_lease(self, name: str, holder: str) -> None:
        with self.store._session() as s:
            s.execute(update(_Lease).where(_Lease.name == name, _Lease.holder == holder)
                      .values(until=_now() - dt.timedelta(seconds=1)))
