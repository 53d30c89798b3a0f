"""Alembic environment: run the migrations on the connection that
:mod:`recommender.store.schema` passes in ``config.attributes["connection"]``.

The models' metadata is the target of ``--autogenerate`` and of the models/migrations agreement
check. Batch mode is rendered (SQLite cannot alter most column properties in place); on
PostgreSQL batch operations are plain ``ALTER TABLE`` statements.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from recommender.store.repository import _Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run the migrations with `recommender db upgrade` (recommender.store.schema), "
                       "which passes the connection; offline SQL scripts are not supported")
context.configure(connection=connection, target_metadata=_Base.metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
