"""Levers: which profile fields a firm can move, in what unit, and the smallest move that
crosses a threshold exactly as the engine compares it.

A derived ratio (``rd_intensity = rd_expense / revenue``) is moved through its numerator with
the denominator held fixed. Money moves in whole yuan, counts in whole units, shares and
years continuously. Size and history (revenue_prev, taxable_income, total assets, the
industry, bool flags) are not levers: a criterion on them is a blocker, or a wait for ages.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from recommender.profile import FIELD_LABELS
from recommender.rules import OPS
from recommender.facts import RATIOS

Unit = Literal["yuan", "count", "share", "years"]

# field: (unit, cost weight per 100 % relative increase). Weights only rank alternatives.
LEVERS: dict[str, tuple[Unit, float]] = {
    "rd_expense": ("yuan", 1.0),
    "rd_expense_3y": ("yuan", 1.5),
    "equity_financing_2y": ("yuan", 3.0),
    "revenue": ("yuan", 4.0),
    "tech_staff": ("count", 1.0),
    "rd_staff": ("count", 1.0),
    "employees": ("count", 3.0),
    "insured_employees": ("count", 2.0),
    "graduates_hired": ("count", 1.0),
    "class1_ip": ("count", 2.0),
    "class2_ip": ("count", 1.0),
    "invention_patents": ("count", 2.0),
    "rd_domestic_share": ("share", 1.0),
    "high_tech_revenue_share": ("share", 2.0),
    "main_business_share": ("share", 2.0),
    "export_share": ("share", 3.0),
}
WAIT_FIELDS: dict[str, Unit] = {"years_in_niche": "years"}


def label(field: str) -> tuple[str, str]:
    """``(english, chinese)`` name of a profile field (:data:`~recommender.profile.FIELD_LABELS`);
    a name that is no profile field is returned as it is."""
    zh, en, _ = FIELD_LABELS.get(field, (field, field.replace("_", " "), "text"))
    return en, zh


def field_words(field: str) -> str:
    """A field as a person reads it in a list: its Chinese label, then the field name
    (``"研发费用 rd_expense"``; the name alone when no label is defined)."""
    zh = FIELD_LABELS[field][0] if field in FIELD_LABELS else ""
    return f"{zh} {field}" if zh else field


def unit_of(field: str) -> Unit:
    if field in LEVERS:
        return LEVERS[field][0]
    return WAIT_FIELDS.get(field, "share" if field.endswith(("_share", "_rate")) else "yuan")


def fmt(value: float, unit: Unit) -> str:
    """A value in its unit: ``¥1,234,000``, ``12``, ``3 %``, ``2.5 years``."""
    if unit == "yuan":
        return f"¥{value:,.0f}"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "share":
        return f"{round(value * 100, 4):g} %"
    return f"{value:g} years"


@dataclass(frozen=True)
class Move:
    """The smallest value of ``field`` that satisfies the criterion."""

    field: str
    unit: Unit
    current: float
    target: float


def lever_of(field: str) -> tuple[str, str]:
    """``(lever, denominator)`` behind ``field``: a ratio's numerator and denominator, else
    ``(field, "")``."""
    ratio = RATIOS.get(field)
    return (ratio.numerator, ratio.denominator) if ratio else (field, "")


def smallest_move(field: str, op: str, threshold: float, values: dict[str, float]) -> Move | str:
    """Smallest ``target`` of the lever behind ``field`` so that ``field op threshold`` holds.

    Parameters
    ----------
    field : str
        A profile field or a ratio fact (:data:`recommender.facts.RATIOS`).
    op : str
        ``>=`` or ``>`` (lower bounds are the only moves a firm can make).
    threshold : float
        The required value in force for the firm (its tier for tiered rules).
    values : dict
        Current profile values (NaN when unknown) of the lever and its denominator.

    Returns
    -------
    Move or str
        The move, or a reason why no move exists (not a lever, ratio undefined, above 100 %).
    """
    ratio = RATIOS.get(field)
    lever, den = lever_of(field)
    if lever not in LEVERS and lever not in WAIT_FIELDS:
        return "not a lever"
    unit = unit_of(lever)
    current = values.get(lever, math.nan)
    scale = values.get(den, math.nan) if den else 1.0
    if math.isnan(current) or math.isnan(scale):
        return "unknown"
    if den and scale == 0:
        return f"ratio undefined ({label(den)[0]} is 0)"
    bar = np.float64(threshold)

    def passes(x: float) -> bool:                   # the comparison the engine makes
        v = np.float64(ratio.of(float(x), scale)) if ratio else np.float64(x)
        return bool(OPS[op](v, bar))

    off = ratio.offset if ratio else 0.0
    estimate = (threshold - off) * scale
    found: float | None
    if unit in ("yuan", "count"):
        found = least_integer(passes, math.floor(current) + 1, estimate)
    else:
        found = least_float(passes, float(estimate) if math.isfinite(estimate) else current)
    if found is None:
        return "no finite value meets it"
    x = float(found)
    if unit == "share" and x > 1.0:
        return f"would need {fmt(x, 'share')}, above 100 %"
    return Move(lever, unit, float(current), x)


def least_integer(passes: Callable[[int], bool], low: int, hint: float) -> int | None:
    """Smallest integer ``x >= low`` with ``passes(x)``, for a ``passes`` that is monotone
    (false, then true, as ``x`` grows); ``None`` when no float up to the largest one passes.

    ``hint`` (an estimate of the answer, possibly NaN or infinite) only speeds the search up.
    Exponential search from ``low`` (or the hint) then bisection on Python integers: at most
    :data:`MAX_PROBES` calls of ``passes`` whatever the magnitudes, where stepping by 1 would
    never end past 2**53 (``x + 1.0 == x``).
    """
    if passes(low):
        return low
    failing, probe = low, low + 1
    if math.isfinite(hint) and low + 1 < hint < _LARGEST_INT:
        guess = math.ceil(hint)
        if passes(guess):
            if not passes(guess - 1):              # the hint is usually exact
                return guess
            probe = guess - 1
        else:
            failing, probe = guess, guess + 1
    step = probe - failing
    while not passes(probe):
        failing = probe
        step *= 2
        probe = failing + step
        if probe >= _LARGEST_INT:
            if not passes(_LARGEST_INT):
                return None
            probe = _LARGEST_INT
            break
    while probe - failing > 1:                      # passes(probe), not passes(failing)
        mid = (failing + probe) // 2
        if passes(mid):
            probe = mid
        else:
            failing = mid
    return probe


def least_float(passes: Callable[[float], bool], start: float) -> float | None:
    """Smallest float ``x >= start`` with ``passes(x)`` for a monotone ``passes``, by bisection
    over the floats' order (their IEEE-754 bit patterns as integers): exact to the last unit
    and at most :data:`MAX_PROBES` calls; ``None`` when no finite float passes."""
    if math.isnan(start):
        return None
    found = least_integer(lambda k: passes(_float_at(k)), _ordinal(max(start, -_LARGEST_FLOAT)), math.nan)
    return None if found is None or found > _ordinal(_LARGEST_FLOAT) else _float_at(found)


_LARGEST_FLOAT = float(np.finfo(np.float64).max)
_LARGEST_INT = int(_LARGEST_FLOAT)
MAX_PROBES = 2 * (_LARGEST_INT.bit_length() + 2)
"""Bound on the calls of ``passes`` in one search: the doublings to the largest float and as
many halvings back (about 2,050), however large the values compared."""


def _ordinal(x: float) -> int:
    """Integer whose order is the floats' order (negative floats mirrored below zero)."""
    bits = int(np.array(x, dtype=np.float64).view(np.int64))
    return bits if bits >= 0 else -(bits & 0x7FFF_FFFF_FFFF_FFFF)


def _float_at(k: int) -> float:
    """The float of ordinal ``k`` (the inverse of :func:`_ordinal`), clipped to finite floats."""
    k = max(min(k, _ordinal(_LARGEST_FLOAT)), -_ordinal(_LARGEST_FLOAT))
    bits = k if k >= 0 else (-k) | -0x8000_0000_0000_0000
    return float(np.array(bits, dtype=np.int64).view(np.float64))
