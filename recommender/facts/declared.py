"""The derived facts of SPEC §3, each declared once: its kind, the profile fields it is
computed from, its label, its array rule (a whole evaluation frame) and its scalar rule (one
firm's cell values) side by side.

The array rule serves bulk runs and batches; the scalar rule serves the one-firm path, where
a few dozen numpy calls on arrays of one element would cost more than everything else. A
hypothesis test holds the two equal, bit for bit, for generated profiles and dates, and an
independent frame-wide oracle under ``tests/`` holds the array rules to the definitions.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from collections.abc import Callable
from typing import Literal, Protocol, TypeVar

import numpy as np

from recommender import tristate as ts
from recommender.facts.size import SIZE_LABELS, SizeTable
from recommender.profile import CERTIFICATIONS, CERTIFICATION_LABELS, ReferenceTables

T = TypeVar("T")
FactKind = Literal["number", "bool", "category"]
Cells = dict[str, object]
"""One firm's cells as :func:`recommender.profile.frame.profile_values` gives them: numbers and flags
as floats (NaN unknown), dates as ``date`` or ``None``, codes and the ``;``-joined
certifications as ``str`` or ``None``."""

DAYS_PER_YEAR = 365.2425
_NS_PER_DAY = 86_400 * 10**9

# 小型微利企业 (财税〔2019〕13号 and later; policy-facts §6, H): all bounds inclusive.
SMALL_LOW_PROFIT_MAX_TAXABLE_INCOME = 3_000_000.0
SMALL_LOW_PROFIT_MAX_EMPLOYEES = 300.0
SMALL_LOW_PROFIT_MAX_ASSETS = 50_000_000.0


class Columns(Protocol):
    """What an array rule reads of an evaluation frame (:class:`recommender.facts.frame.EvalFrame`)."""

    n: int
    as_of: dt.date
    ref: ReferenceTables

    def num(self, name: str) -> np.ndarray: ...
    def factorized(self, name: str) -> tuple[np.ndarray, np.ndarray]: ...
    def datetimes(self, name: str) -> np.ndarray: ...
    def memo(self, key: object, compute: Callable[[], T]) -> T: ...


def size_table(ref: ReferenceTables) -> SizeTable:
    """The size-standard lookup of ``ref`` (built once, held by ``ref``)."""
    return ref.built("size_table", lambda: SizeTable(ref))


@dataclass(frozen=True)
class Fact:
    """A derived fact: ``kind``, ``sources`` (the profile fields to ask for when it is
    unknown), ``label`` (English, Chinese) and ``reported`` (returned under SPEC §5
    ``derived``; the per-title flags are criteria columns only)."""

    name: str
    kind: FactKind
    sources: tuple[str, ...]
    label: tuple[str, str]
    reported: bool = True

    def array(self, frame: Columns) -> np.ndarray:
        """float64 per row, NaN unknown."""
        raise NotImplementedError

    def scalar(self, cells: Cells, as_of: dt.date, ref: ReferenceTables) -> float:
        """The same for one firm, as a Python float."""
        raise NotImplementedError


def _ratio_array(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = num / den
    out[~np.isfinite(out)] = np.nan
    return out


@dataclass(frozen=True)
class Ratio(Fact):
    """``(numerator + offset × denominator) / denominator``; unknown when not finite (a zero
    or unknown denominator). A firm moves it through its numerator (:mod:`recommender.advice.levers`)."""

    numerator: str = ""
    denominator: str = ""
    offset: float = 0.0

    def of(self, num: float, den: float) -> float:
        """The ratio of two Python floats, exactly as :meth:`array` computes it per row."""
        top = num if self.offset == 0 else num + self.offset * den
        try:
            out = top / den
        except (ZeroDivisionError, OverflowError):
            return math.nan
        return out if math.isfinite(out) else math.nan

    def array(self, frame: Columns) -> np.ndarray:
        num, den = frame.num(self.numerator), frame.num(self.denominator)
        return _ratio_array(num if self.offset == 0 else num + self.offset * den, den)

    def scalar(self, cells: Cells, as_of: dt.date, ref: ReferenceTables) -> float:
        return self.of(cells[self.numerator], cells[self.denominator])  # type: ignore[arg-type]  # cells are object-typed; ratio sources are floats


@dataclass(frozen=True)
class Age(Fact):
    """Whole days from ``established_on`` to the evaluation date, in years of 365.2425 days,
    rounded to 4 decimals."""

    def array(self, frame: Columns) -> np.ndarray:
        est = frame.datetimes("established_on")
        as_of_ns = np.datetime64(frame.as_of, "ns").astype(np.int64)
        days = ((as_of_ns - est.view(np.int64)) // _NS_PER_DAY).astype("float64")
        days[np.isnat(est)] = np.nan
        return np.round(days / DAYS_PER_YEAR, 4)

    def scalar(self, cells: Cells, as_of: dt.date, ref: ReferenceTables) -> float:
        est = cells["established_on"]
        if est is None:
            return math.nan
        days = float((as_of - est).days)  # type: ignore[operator]  # established_on is a date when not None
        return float(np.round(days / DAYS_PER_YEAR, 4))


@dataclass(frozen=True)
class Manufacturer(Fact):
    """Industry in section C (manufacturing)."""

    @staticmethod
    def _of(code: object) -> float:
        return float(str(code)[:1] == "C")

    def array(self, frame: Columns) -> np.ndarray:
        codes, uniques = frame.factorized("industry_code")
        return np.array([self._of(u) for u in uniques] + [np.nan])[codes]

    def scalar(self, cells: Cells, as_of: dt.date, ref: ReferenceTables) -> float:
        code = cells["industry_code"]
        return math.nan if code is None else self._of(code)


_SMALL_LOW_PROFIT = (("taxable_income", SMALL_LOW_PROFIT_MAX_TAXABLE_INCOME),
                     ("employees", SMALL_LOW_PROFIT_MAX_EMPLOYEES),
                     ("total_assets", SMALL_LOW_PROFIT_MAX_ASSETS))


@dataclass(frozen=True)
class SmallLowProfit(Fact):
    """小型微利企业: taxable income, employees and total assets all at most their bounds
    (three-valued: unknown unless the known ones decide)."""

    def array(self, frame: Columns) -> np.ndarray:
        parts = []
        for col, bound in _SMALL_LOW_PROFIT:
            v = frame.num(col)
            with np.errstate(invalid="ignore"):
                parts.append(ts.from_bool(v <= bound, ~np.isnan(v)))
        slp = ts.all_of(parts, frame.n)
        return np.where(slp == ts.UNKNOWN, np.nan, (slp == ts.MET).astype("float64"))

    def scalar(self, cells: Cells, as_of: dt.date, ref: ReferenceTables) -> float:
        slp = ts.MET
        for col, bound in _SMALL_LOW_PROFIT:
            v = cells[col]
            slp = min(slp, ts.UNKNOWN if v != v else (ts.MET if v <= bound else ts.NOT_MET))  # type: ignore[operator]  # cells are object-typed; these sources are floats
        return math.nan if slp == ts.UNKNOWN else float(slp == ts.MET)


@dataclass(frozen=True)
class Holds(Fact):
    """Holds the title ``cert`` (a ``cert_<title>`` column; unknown when the list is)."""

    cert: str = ""

    def _of(self, certs: object) -> float:
        return float(self.cert in str(certs).split(";"))

    def array(self, frame: Columns) -> np.ndarray:
        codes, uniques = frame.factorized("certifications")
        return np.array([self._of(u) for u in uniques] + [np.nan])[codes]

    def scalar(self, cells: Cells, as_of: dt.date, ref: ReferenceTables) -> float:
        certs = cells["certifications"]
        return math.nan if certs is None else self._of(certs)


@dataclass(frozen=True)
class Category(Fact):
    """``industry_group`` or ``size_class``: a label index per row (-1 unknown) and the labels."""

    def codes(self, frame: Columns) -> tuple[np.ndarray, tuple[str, ...]]:
        table = size_table(frame.ref)
        groups = frame.memo(("derived", "groups"), lambda: table.group_codes(frame))
        if self.name == "industry_group":
            return groups, table.groups
        return frame.memo(("derived", "size"), lambda: table.size_codes(frame, groups)), SIZE_LABELS

    def code(self, cells: Cells, ref: ReferenceTables) -> tuple[int, tuple[str, ...]]:
        table = size_table(ref)
        code = cells["industry_code"]
        group = -1 if code is None else table.group_index(str(code))
        if self.name == "industry_group":
            return group, table.groups
        return table.size_code(cells, group), SIZE_LABELS


_SIZE_SOURCES = ("industry_code", "employees", "revenue", "total_assets")

FACTS: dict[str, Fact] = {f.name: f for f in (
    Category("industry_group", "category", ("industry_code",), ("SME-standard industry group", "中小企业划型行业")),
    Category("size_class", "category", _SIZE_SOURCES, ("size class", "企业规模")),
    Age("age_years", "number", ("established_on",), ("years since registration", "成立年限")),
    Manufacturer("manufacturer", "bool", ("industry_code",), ("manufacturer", "制造业企业")),
    Ratio("rd_intensity", "number", ("rd_expense", "revenue"), ("R&D intensity", "研发费用占营业收入比例"),
          numerator="rd_expense", denominator="revenue"),
    Ratio("rd_intensity_3y", "number", ("rd_expense_3y", "revenue_3y"),
          ("3-year R&D intensity", "近三年研发费用占营业收入比例"),
          numerator="rd_expense_3y", denominator="revenue_3y"),
    Ratio("tech_staff_ratio", "number", ("tech_staff", "employees"), ("S&T staff ratio", "科技人员占比"),
          numerator="tech_staff", denominator="employees"),
    Ratio("rd_staff_ratio", "number", ("rd_staff", "employees"), ("R&D staff ratio", "研发人员占比"),
          numerator="rd_staff", denominator="employees"),
    Ratio("revenue_growth", "number", ("revenue", "revenue_prev"), ("revenue growth", "营业收入增长率"),
          numerator="revenue", denominator="revenue_prev", offset=-1.0),
    SmallLowProfit("small_low_profit", "bool", ("taxable_income", "employees", "total_assets"),
                   ("small low-profit enterprise", "小型微利企业")),
    *(Holds(f"cert_{c}", "bool", ("certifications",), (f"holds the title {en}", f"已获{zh}称号"),
            reported=False, cert=c) for c, (en, zh) in CERTIFICATION_LABELS.items()),
)}
"""Every derived fact, in the order the evaluation frame's DataFrame form appends them."""

REPORTED: tuple[str, ...] = ("size_class", "industry_group", "age_years", "rd_intensity", "rd_intensity_3y",
                             "tech_staff_ratio", "rd_staff_ratio", "revenue_growth", "small_low_profit",
                             "manufacturer")
"""The facts returned under ``derived`` (SPEC §3), in their output order."""

RATIOS: dict[str, Ratio] = {n: f for n, f in FACTS.items() if isinstance(f, Ratio)}
CATEGORY_FACTS: dict[str, Category] = {n: f for n, f in FACTS.items() if isinstance(f, Category)}
NUMERIC_FACTS: dict[str, Fact] = {n: f for n, f in FACTS.items() if not isinstance(f, Category)}
CERT_COLUMNS: dict[str, str] = {c: f"cert_{c}" for c in CERTIFICATIONS}


def derived_values(cells: Cells, as_of: dt.date, ref: ReferenceTables) -> dict[str, object]:
    """Every derived fact of one firm from its cells: numeric facts as floats (NaN unknown),
    categories as ``(index, labels)`` with index -1 when unknown."""
    out: dict[str, object] = {name: fact.scalar(cells, as_of, ref) for name, fact in NUMERIC_FACTS.items()}
    for name, cat in CATEGORY_FACTS.items():
        out[name] = cat.code(cells, ref)
    return out
