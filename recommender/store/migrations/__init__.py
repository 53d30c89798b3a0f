"""The Alembic migrations of the store's tables (``env.py``, ``versions/``), shipped inside the
package so that ``recommender db upgrade`` finds them from any working directory.

Run them with :mod:`recommender.store.schema` (``recommender db upgrade|current|downgrade|revision``);
there is no ``alembic.ini``: the configuration is built in code. How to add a revision:
``docs/deploy.md`` (section Database).
"""
