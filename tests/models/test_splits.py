"""Training windows: consecutive, covering exactly the years before the split date."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from models.splits import Window, train_test_windows, training_windows

D = dt.date


def test_half_year_windows_of_two_years() -> None:
    assert training_windows(D(2023, 1, 1), 2, 6) == [
        Window(D(2021, 1, 1), D(2021, 7, 1)), Window(D(2021, 7, 1), D(2022, 1, 1)),
        Window(D(2022, 1, 1), D(2022, 7, 1)), Window(D(2022, 7, 1), D(2023, 1, 1))]


def test_yearly_windows_are_the_old_split() -> None:
    assert training_windows(D(2023, 1, 1), 2, 12) == [Window(D(2021, 1, 1), D(2022, 1, 1)),
                                                      Window(D(2022, 1, 1), D(2023, 1, 1))]


@pytest.mark.parametrize("months", [1, 2, 3, 4, 6, 12])
def test_windows_tile_the_period_across_year_ends(months: int) -> None:
    wins = training_windows(D(2022, 4, 1), 1, months)
    assert len(wins) == 12 // months
    assert wins[0].start == D(2021, 4, 1) and wins[-1].end == D(2022, 4, 1)
    assert all(a.end == b.start for a, b in zip(wins, wins[1:]))       # no gap, no overlap


@pytest.mark.parametrize(("split", "months", "message"), [
    (D(2023, 1, 2), 6, "split_date must be the first of a month, got 2023-01-02"),
    (D(2023, 1, 1), 5, "months must divide 12 (1, 2, 3, 4, 6 or 12), got 5"),
    (D(2023, 1, 1), 0, "months must divide 12 (1, 2, 3, 4, 6 or 12), got 0"),
])
def test_bad_windows_are_refused(split: dt.date, months: int, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        training_windows(split, 2, months)


def test_train_test_windows_lengths() -> None:
    split = dt.date(2023, 1, 1)
    assert train_test_windows(split, 2) == (Window(dt.date(2021, 1, 1), split), Window(split, dt.date(2024, 1, 1)))
    assert train_test_windows(split, 1, 2)[1] == Window(split, dt.date(2025, 1, 1))
