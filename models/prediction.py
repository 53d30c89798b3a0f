"""How the models are fed: prediction threads and categorical columns (no LightGBM import: the
serving path reads this without loading it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

SMALL_PREDICT = 10_000
"""Below this many rows a prediction runs on one thread: starting OpenMP threads for a few
dozen rows costs more than the trees (measured: 30 rows, 300 trees, 0.4 ms on one thread,
7.9 ms on two when the other core is busy)."""


def predict_threads(n_rows: int, n_jobs: int) -> int:
    """Threads for a LightGBM prediction of ``n_rows`` rows."""
    return 1 if n_rows < SMALL_PREDICT else n_jobs


def categorical_columns(names: Sequence[str], categorical: Sequence[str]) -> list[str] | Literal["auto"]:
    """LightGBM's ``categorical_feature`` for columns ``categorical`` of ``names``: the names
    (``"auto"`` when there are none, LightGBM's default).

    Raises
    ------
    ValueError
        A categorical column that is not among the feature names.
    """
    missing = [c for c in categorical if c not in set(names)]
    if missing:
        raise ValueError(f"categorical column(s) {missing} are not among the feature names")
    return list(categorical) if categorical else "auto"
