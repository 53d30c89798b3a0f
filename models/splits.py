"""Chronological and group-aware splits.

Labels are dated, so evaluation is on a *later* period than training: a split date divides
the events, never a random shuffle. Where a random held-out set is needed (calibration), it
is drawn by query (firm) so all candidate policies of a firm stay in one fold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Window:
    """A half-open date window ``[start, end)``."""

    start: dt.date
    end: dt.date

    def contains(self, dates: pd.Series) -> np.ndarray:
        """Boolean mask of ``dates`` (datetime64) inside the window."""
        return ((dates >= pd.Timestamp(self.start)) & (dates < pd.Timestamp(self.end))).to_numpy()


def chrono_split(events: pd.DataFrame, date_col: str, split_date: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``events`` into rows dated before ``split_date`` and rows on or after it.

    Parameters
    ----------
    events : DataFrame
    date_col : str
        A datetime64 column of ``events``.
    split_date : date
        First day of the later part.

    Raises
    ------
    ValueError
        When ``date_col`` is missing or not datetime64.
    """
    if date_col not in events.columns:
        raise ValueError(f"date_col {date_col!r} is not a column of events")
    if not pd.api.types.is_datetime64_any_dtype(events[date_col]):
        raise ValueError(f"date_col {date_col!r} must be datetime64, got {events[date_col].dtype}")
    before = events[date_col] < pd.Timestamp(split_date)
    return events.loc[before], events.loc[~before]


def train_test_windows(split_date: dt.date, years: int = 1, test_years: int = 1) -> tuple[Window, Window]:
    """The training window (``years`` before ``split_date``) and the test window
    (``test_years`` after it)."""
    start = split_date.replace(year=split_date.year - years)
    end = split_date.replace(year=split_date.year + test_years)
    return Window(start, split_date), Window(split_date, end)


def _add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``day``'s month (``day`` is a first of month)."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def training_windows(split_date: dt.date, years: int = 2, months: int = 6) -> list[Window]:
    """Consecutive windows of ``months`` months covering the ``years`` before ``split_date``,
    oldest first.

    Shorter windows let each one read the history just before it: a policy that started
    in the last year gets a window whose history already has it, as at serving time.

    Raises
    ------
    ValueError
        When ``split_date`` is not the first of a month or ``months`` does not divide 12.
    """
    if split_date.day != 1:
        raise ValueError(f"split_date must be the first of a month, got {split_date.isoformat()}")
    if months < 1 or 12 % months:
        raise ValueError(f"months must divide 12 (1, 2, 3, 4, 6 or 12), got {months}")
    starts = [_add_months(split_date, -12 * years + k * months) for k in range(12 * years // months)]
    return [Window(s, _add_months(s, months)) for s in starts]


def group_holdout(query_ids: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of rows whose query falls in a random held-out ``fraction`` of queries.

    Every row of a query gets the same value. Deterministic for ``seed``.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    uniq, inverse = np.unique(np.asarray(query_ids), return_inverse=True)
    held = np.random.default_rng(seed).random(len(uniq)) < fraction
    return held[inverse]
