"""Several hosts share one job queue: a job's claim and lease, and the reload generation.

``jobs.claimed_by`` (``host:pid:random`` of the runner that claimed the job) and
``jobs.lease_expires_at`` (when another runner may take a running job over); table
``service_state`` (one row, ``reload``: the generation of the catalog and model every service
process follows). A job left ``running`` by an older version has no lease and is queued again
when a runner takes the runner lock.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # What a database adopted at 0001 may already have (its tables were made by a create_all
    # that knew leases) is not added twice.
    inspector = sa.inspect(op.get_bind())
    have = {c["name"] for c in inspector.get_columns("jobs")}
    missing = [c for c in (sa.Column("claimed_by", sa.String(120), nullable=True),
                           sa.Column("lease_expires_at", _TIME, nullable=True)) if c.name not in have]
    if missing:
        with op.batch_alter_table("jobs") as batch:
            for column in missing:
                batch.add_column(column)
    if not inspector.has_table("service_state"):
        op.create_table(
            "service_state",
            sa.Column("name", sa.String(32), nullable=False),
            sa.Column("generation", sa.Integer(), nullable=False),
            sa.Column("catalog_version", sa.String(64), nullable=True),
            sa.Column("model_version", sa.String(64), nullable=True),
            sa.Column("updated_at", _TIME, nullable=False),
            sa.PrimaryKeyConstraint("name"),
        )


def downgrade() -> None:
    op.drop_table("service_state")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("claimed_by")
