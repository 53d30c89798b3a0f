"""Required values of criteria: a constant, values by date, or a date relative to ``as_of``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from recommender.rules.operators import format_value


@dataclass(frozen=True)
class Threshold:
    """A required value: a constant, dated values, or a date relative to ``as_of``."""

    constant: float | bool | None = None
    by_date: tuple[tuple[dt.date, float], ...] = ()
    years_before_as_of: float | None = None

    def resolve(self, as_of: dt.date) -> float | bool | None:
        """The value in force on ``as_of`` (a day number for relative dates); None if none is."""
        if self.years_before_as_of is not None:
            return float(day_number(shift_years(as_of, -self.years_before_as_of)))
        if self.by_date:
            current = None
            for start, value in self.by_date:
                if start <= as_of:
                    current = value
            return current
        return self.constant

    def text(self, as_of: dt.date) -> str:
        if self.years_before_as_of is not None:
            return shift_years(as_of, -self.years_before_as_of).isoformat()
        return format_value(self.resolve(as_of))


def shift_years(day: dt.date, years: float) -> dt.date:
    whole = int(years)
    if whole != years:
        return day + dt.timedelta(days=round(years * 365.2425))
    try:
        return day.replace(year=day.year + whole)
    except ValueError:  # 29 February in a non-leap target year
        return day.replace(year=day.year + whole, day=28)


def day_number(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def from_day_number(n: float) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(n))
