"""One module per revision (``v<rev>_<slug>.py``); Alembic loads them by path."""
