"""Subscriptions and alerts (issue 24, SPEC §10): ``subscriptions``, ``alert_outbox`` and
``alerts_lease``, as declared in :mod:`recommender.store.subscriptions`.

A database whose tables were made by ``create_all`` while these tables existed and migrations
did not (the ``alerts`` branch before the migrations) may already have some of them: each
table is created only when missing, so such a database, adopted at 0001, upgrades cleanly
through 0002 (job leases) to here.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import Operations

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def _subscriptions(ops: Operations) -> None:
    ops.create_table(
        "subscriptions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("firm_id", sa.String(64), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=False),
        sa.Column("families", sa.Text(), nullable=False),
        sa.Column("policies", sa.Text(), nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("known", sa.Text(), nullable=False),
        sa.Column("consent_at", _TIME, nullable=False),
        sa.Column("consent_by", sa.String(16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    ops.create_index("ix_subscriptions_expires_at", "subscriptions", ["expires_at"])


def _alert_outbox(ops: Operations) -> None:
    ops.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.String(36), nullable=False),
        sa.Column("policy_id", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("window_key", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("batch", sa.String(36), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TIME, nullable=False),
        sa.Column("delivered_at", _TIME, nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscriptions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "policy_id", "kind", "window_key", name="uq_alert_once"),
    )
    for column in ("batch", "state", "subscription_id"):
        ops.create_index(f"ix_alert_outbox_{column}", "alert_outbox", [column])


def _alerts_lease(ops: Operations) -> None:
    ops.create_table(
        "alerts_lease",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("until", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


TABLES: dict[str, Callable[[Operations], None]] = {
    "subscriptions": _subscriptions, "alert_outbox": _alert_outbox, "alerts_lease": _alerts_lease}
"""The tables of this revision and how each is created (the outbox after the table it refers to)."""


def upgrade() -> None:
    ops = Operations(op.get_context())
    inspector = sa.inspect(op.get_bind())
    for name, create in TABLES.items():
        if not inspector.has_table(name):
            create(ops)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
