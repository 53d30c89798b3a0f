"""``python -m recommender.cli``: the same as the ``recommender`` command."""

from recommender.cli.main import app

app()
