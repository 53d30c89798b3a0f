"""The schema as it was when migrations began: jobs, outcomes (with the model_version and rank
extras) and audit_log.

A database created before migrations (by ``open_store``'s ``create_all``: the tables, no
``alembic_version``) is brought to this revision by :func:`adopt`, which creates what is
missing (a table, or the outcome extras of a database older than them) and nothing else; the
caller then stamps it (``recommender db upgrade`` does both).

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import Operations

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def _outcome_extras() -> list[sa.Column[object]]:
    """The optional columns added to ``outcomes`` after it was first created."""
    return [sa.Column("model_version", sa.String(64), nullable=True),
            sa.Column("rank", sa.Integer(), nullable=True)]


def _jobs(ops: Operations) -> None:
    ops.create_table(
        "jobs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("started_at", _TIME, nullable=True),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.Column("input_name", sa.String(255), nullable=False),
        sa.Column("input_path", sa.Text(), nullable=False),
        sa.Column("output_path", sa.Text(), nullable=False),
        sa.Column("rejects_path", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("top_k", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("chunks_done", sa.Integer(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=True),
        sa.Column("firms_matched", sa.Integer(), nullable=True),
        sa.Column("rows_rejected", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("catalog_version", sa.String(64), nullable=True),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    ops.create_index("ix_jobs_state", "jobs", ["state"])


def _outcomes(ops: Operations) -> None:
    ops.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("firm_id", sa.String(64), nullable=False),
        sa.Column("policy_id", sa.String(80), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("recorded_at", _TIME, nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        *_outcome_extras(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("firm_id", "policy_id", "event_date", "outcome", name="uq_outcome"),
    )
    ops.create_index("ix_outcomes_firm_id", "outcomes", ["firm_id"])


def _audit_log(ops: Operations) -> None:
    ops.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("policy_id", sa.String(80), nullable=True),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("n_firms", sa.Integer(), nullable=False),
        sa.Column("catalog_version", sa.String(64), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    ops.create_index("ix_audit_log_at", "audit_log", ["at"])


TABLES: dict[str, Callable[[Operations], None]] = {"jobs": _jobs, "outcomes": _outcomes, "audit_log": _audit_log}
"""The tables of this revision and how each is created."""


def adopt(ops: Operations) -> list[str]:
    """Bring a database created before migrations to this revision: create its missing tables
    and the outcome extras its ``outcomes`` table lacks. What was done, one line each."""
    inspector = sa.inspect(ops.get_bind())
    done = []
    for name, create in TABLES.items():
        if not inspector.has_table(name):
            create(ops)
            done.append(f"created table {name}")
    have = {c["name"] for c in inspector.get_columns("outcomes")}
    for column in _outcome_extras():
        if column.name not in have:
            ops.add_column("outcomes", column)
            done.append(f"added column outcomes.{column.name}")
    return done


def upgrade() -> None:
    ops = Operations(op.get_context())
    for create in TABLES.values():
        create(ops)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
