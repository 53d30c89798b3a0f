"""E-mail as a second alert channel (issue 24): ``subscriptions.email`` (an address, or none),
``subscriptions.webhook_url`` no longer required (a subscription has one channel or both),
and ``alert_outbox.channel`` (``webhook`` or ``email``), part of the once-only key
``uq_alert_once_per_channel`` that replaces ``uq_alert_once``: an alert is decided at most
once per channel. Rows already in the outbox are webhook deliveries.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = ["subscription_id", "policy_id", "kind", "window_key"]


def upgrade() -> None:
    # A database adopted at 0001 whose tables a create_all of these models made already has
    # all of it: only what is missing is added.
    inspector = sa.inspect(op.get_bind())
    subscription_columns = {c["name"]: c for c in inspector.get_columns("subscriptions")}
    if "email" not in subscription_columns or not subscription_columns["webhook_url"]["nullable"]:
        with op.batch_alter_table("subscriptions") as batch:
            if "email" not in subscription_columns:
                batch.add_column(sa.Column("email", sa.String(254), nullable=True))
            batch.alter_column("webhook_url", existing_type=sa.Text(), nullable=True)
    outbox_columns = {c["name"] for c in inspector.get_columns("alert_outbox")}
    uniques = {u["name"] for u in inspector.get_unique_constraints("alert_outbox")}
    if "channel" not in outbox_columns or "uq_alert_once" in uniques:
        with op.batch_alter_table("alert_outbox") as batch:
            if "channel" not in outbox_columns:
                batch.add_column(sa.Column("channel", sa.String(8), nullable=False, server_default="webhook"))
            if "uq_alert_once" in uniques:
                batch.drop_constraint("uq_alert_once", type_="unique")
            if "uq_alert_once_per_channel" not in uniques:
                batch.create_unique_constraint("uq_alert_once_per_channel", [*_KEY, "channel"])


def downgrade() -> None:
    # e-mail-only subscriptions and e-mail deliveries cannot be kept without the column
    op.execute(sa.text("DELETE FROM alert_outbox WHERE channel = 'email'"))
    op.execute(sa.text("DELETE FROM alert_outbox WHERE subscription_id IN "
                       "(SELECT id FROM subscriptions WHERE webhook_url IS NULL)"))
    op.execute(sa.text("DELETE FROM subscriptions WHERE webhook_url IS NULL"))
    with op.batch_alter_table("alert_outbox") as batch:
        batch.drop_constraint("uq_alert_once_per_channel", type_="unique")
        batch.create_unique_constraint("uq_alert_once", _KEY)
        batch.drop_column("channel")
    with op.batch_alter_table("subscriptions") as batch:
        batch.alter_column("webhook_url", existing_type=sa.Text(), nullable=False)
        batch.drop_column("email")
