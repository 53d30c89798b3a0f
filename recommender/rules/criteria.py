"""The leaf criteria: comparisons, tiered thresholds, set membership, titles held, declarations
and date windows; each evaluates a frame (``_evaluate``) and one firm (``one_firm``) side by
side. The base class and the language are described in :mod:`recommender.rules.node`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from recommender import tristate as ts
from recommender.facts import EvalFrame
from recommender.rules.node import Criterion, OneFirm, Outcomes, Sink, Slot, constant
from recommender.rules.operators import LOWER_BOUND_OPS, OPS, SCALAR_OPS, UPPER_BOUND_OPS, format_value
from recommender.rules.thresholds import Threshold, from_day_number, shift_years

if TYPE_CHECKING:
    from recommender.facts import RowFrame

_MET, _UNKNOWN, _NOT_MET = ts.MET, ts.UNKNOWN, ts.NOT_MET


@dataclass(frozen=True, eq=False)
class Compare(Criterion):
    """``field op value`` on a number, bool or date column (dates: value relative to as_of)."""

    field: str = ""
    op: str = ">="
    value: Threshold = Threshold()
    field_kind: str = "number"
    kind: ClassVar[str] = "compare"

    def _required(self, frame: EvalFrame) -> float | None:
        v = self.value.resolve(frame.as_of)
        return None if v is None else float(v)

    def _values(self, frame: EvalFrame) -> np.ndarray:
        return frame.days(self.field) if self.field_kind == "date" else frame.num(self.field)

    def shape(self) -> object:
        return ("compare", self.field, self.op, self.value, self.field_kind)

    def _evaluate(self, frame: EvalFrame, sink: Sink | None) -> Outcomes:
        required = self._required(frame)
        if required is None:  # no dated value in force on as_of: the rule does not exist yet
            return np.full(frame.n, ts.NOT_MET, dtype=np.int8)
        values = self._values(frame)
        unknown = frame.unknown(self.field, dates=self.field_kind == "date")
        with np.errstate(invalid="ignore"):
            hit = OPS[self.op](values, required)
        if self.op == "!=":                      # NaN != x is true: unknown must not count
            hit &= unknown == 0
        return ts.from_hit(hit, unknown)

    def one_firm(self, as_of: dt.date, slot: Slot) -> OneFirm:
        if self.field_kind not in ("number", "bool", "date"):
            return super().one_firm(as_of, slot)
        v = self.value.resolve(as_of)
        if v is None:           # no dated value in force on as_of: the rule does not exist yet
            return constant(_NOT_MET)
        required, test, field = float(v), SCALAR_OPS[self.op], self.field
        if self.field_kind == "date":
            def rule(frame: RowFrame, codes: list[int]) -> int:
                x = frame.scalar_days(field)
                return _UNKNOWN if x != x else (_MET if test(x, required) else _NOT_MET)
        else:
            def rule(frame: RowFrame, codes: list[int]) -> int:
                x = frame.scalar(field)
                return _UNKNOWN if x != x else (_MET if test(x, required) else _NOT_MET)
        return rule

    def margin_row(self, as_of: dt.date) -> tuple[str, float, float, bool] | None:
        v = self.value.resolve(as_of)
        if self.field_kind != "number" or self.op not in LOWER_BOUND_OPS + UPPER_BOUND_OPS or v is None:
            return None
        required = float(v)
        return self.field, required, abs(required) if required else 1.0, self.op in UPPER_BOUND_OPS

    def fields(self) -> set[str]:
        return {self.field}

    def observed(self, frame: EvalFrame, row: int) -> Any:
        v = frame.value(self.field, row)
        return bool(v) if self.field_kind == "bool" and v is not None else v

    def required_text(self, frame: EvalFrame, row: int) -> str:
        return f"{self.op} {self.value.text(frame.as_of)}"

    def gap(self, frame: EvalFrame, row: int) -> float | None:
        required = self._required(frame)
        observed = self._values(frame)[row]
        if required is None or np.isnan(observed) or OPS[self.op](observed, required):
            return None
        if self.op in LOWER_BOUND_OPS or self.op in UPPER_BOUND_OPS:
            return float(abs(required - observed))
        return None

    def margin(self, frame: EvalFrame) -> np.ndarray | None:
        if self.field_kind != "number" or self.op not in LOWER_BOUND_OPS + UPPER_BOUND_OPS:
            return None
        required = self._required(frame)
        if required is None:
            return None
        values = frame.num(self.field)
        scale = abs(required) if required else 1.0
        with np.errstate(over="ignore"):       # a huge ratio over a small bar: inf, clipped later
            diff = (values - required) / scale
        return diff if self.op in LOWER_BOUND_OPS else -diff

    def date_when_met(self, frame: EvalFrame, row: int) -> dt.date | None:
        """For ``established_on <= as_of - N years``: the first date the firm meets it."""
        if self.field_kind != "date" or self.value.years_before_as_of is None:
            return None
        est = frame.days(self.field)[row]
        if np.isnan(est):
            return None
        return shift_years(from_day_number(est), self.value.years_before_as_of)


def _leaf_codes(frame: EvalFrame, code: str) -> list[str]:
    """The most specific GB/T 4754 codes under ``code`` (codes with no finer code below them)."""
    finer = [c for c in frame.ref.industry_names if c.startswith(code) and c != code]
    return [c for c in finer if not any(o != c and o.startswith(c) for o in finer)]


@dataclass(frozen=True, eq=False)
class Membership(Criterion):
    """``field`` in (or not in) a set. Code fields (industry, region) match by prefix.

    For a code field, a firm code coarser than a listed code (firm ``C36``, policy ``C3670``)
    is unknown: the firm may or may not fall inside.
    """

    field: str = ""
    values: tuple[str, ...] = ()
    negate: bool = False
    prefix: bool = False
    kind: ClassVar[str] = "membership"

    def shape(self) -> object:
        return ("in", self.field, self.values, self.negate, self.prefix)

    def _covers(self, code: str) -> bool:
        return any(code.startswith(v) for v in self.values)

    def _decide(self, code: str, frame: EvalFrame) -> int:
        """The outcome for one distinct code (before negation)."""
        if self.prefix:
            if self._covers(code):
                return ts.MET
            if any(v.startswith(code) for v in self.values):
                # The firm's code is coarser than a listed one: met only when every finer
                # code under it is listed (section K = division K70), else unknown.
                leaves = frame.memo(("leaf_codes", code), lambda: _leaf_codes(frame, code)) \
                    if self.field == "industry_code" else []
                return ts.MET if leaves and all(self._covers(c) for c in leaves) else ts.UNKNOWN
            return ts.NOT_MET
        return ts.MET if code in self.values else ts.NOT_MET

    @cached_property
    def _decided(self) -> dict[int, tuple[object, dict[str, int]]]:
        return {}

    def _decided_code(self, code: str, frame: EvalFrame) -> int:
        # Per distinct code, decided once per reference tables and kept on the node: codes
        # are validated against a finite table, so this stays small.
        ref = frame.ref
        held = self._decided.get(id(ref))
        if held is None or held[0] is not ref:
            held = self._decided[id(ref)] = (ref, {})
        seen = held[1]
        v = seen.get(code)
        if v is None:
            v = self._decide(code, frame)
            if len(seen) < 100_000:
                seen[code] = v
        return v

    def _lookup(self, uniques: np.ndarray, frame: EvalFrame) -> np.ndarray:
        out = np.array([self._decided_code(str(u), frame) for u in uniques], dtype=np.int8)
        return ts.negate(out) if self.negate else out

    def outcome_of(self, value: object, frame: EvalFrame) -> int:
        """The outcome for one firm's value (``None``: unknown), as :meth:`evaluate` gives it
        for a row holding that value; the per-code decisions are shared with it."""
        if value is None:
            return ts.UNKNOWN
        v = self._decided_code(str(value), frame)
        return ts.MET - v if self.negate else v

    def one_firm(self, as_of: dt.date, slot: Slot) -> OneFirm:
        def rule(frame: RowFrame, codes: list[int]) -> int:
            return self.outcome_of(frame.value(self.field, 0), frame)
        return rule

    def _evaluate(self, frame: EvalFrame, sink: Sink | None) -> Outcomes:
        codes, uniques = frame.factorized(self.field)
        lut = np.append(self._lookup(uniques, frame), np.int8(ts.UNKNOWN))  # index -1 → unknown
        return lut[codes]

    def fields(self) -> set[str]:
        return {self.field}

    def observed(self, frame: EvalFrame, row: int) -> Any:
        return frame.value(self.field, row)

    def required_text(self, frame: EvalFrame, row: int) -> str:
        word = "not in" if self.negate else "in"
        suffix = " (prefix match)" if self.prefix else ""
        return f"{word} {{{', '.join(self.values)}}}{suffix}"


@dataclass(frozen=True, eq=False)
class Holds(Criterion):
    """The firm holds (or does not hold) a certification; unknown when the list is unknown."""

    cert: str = ""
    negate: bool = False
    kind: ClassVar[str] = "certification"

    @property
    def column(self) -> str:
        return f"cert_{self.cert}"

    def shape(self) -> object:
        return ("holds", self.cert, self.negate)

    def _evaluate(self, frame: EvalFrame, sink: Sink | None) -> Outcomes:
        values = frame.num(self.column)
        hit = values == 0.0 if self.negate else values == 1.0
        return ts.from_hit(hit, frame.unknown(self.column))

    def one_firm(self, as_of: dt.date, slot: Slot) -> OneFirm:
        column, wanted = self.column, 0.0 if self.negate else 1.0

        def rule(frame: RowFrame, codes: list[int]) -> int:
            x = frame.scalar(column)
            return _UNKNOWN if x != x else (_MET if x == wanted else _NOT_MET)
        return rule

    def fields(self) -> set[str]:
        return {"certifications"}

    def observed(self, frame: EvalFrame, row: int) -> Any:
        v = frame.num(self.column)[row]
        return None if np.isnan(v) else bool(v)

    def required_text(self, frame: EvalFrame, row: int) -> str:
        return f"{'does not hold' if self.negate else 'holds'} {self.cert}"


@dataclass(frozen=True, eq=False)
class Tier:
    """One band of a tiered threshold: applies while ``by`` is within the bound."""

    upto: float | None       # by <= upto (inclusive); None = no upper bound
    below: float | None      # by < below (exclusive)
    value: float

    def contains(self, by: np.ndarray) -> np.ndarray:
        if self.upto is not None:
            return by <= self.upto
        if self.below is not None:
            return by < self.below
        return np.ones_like(by, dtype=bool)

    def text(self) -> str:
        if self.upto is not None:
            return f"<= {format_value(self.upto)}"
        if self.below is not None:
            return f"< {format_value(self.below)}"
        return "otherwise"


@dataclass(frozen=True, eq=False)
class Tiered(Criterion):
    """``field op required`` where ``required`` depends on the band of another field ``by``.

    Tiers are tried in order; the first whose bound contains ``by`` applies. When ``by`` is
    unknown, the outcome is still decided if the firm passes (or fails) every tier's value.
    """

    field: str = ""
    op: str = ">="
    by: str = ""
    tiers: tuple[Tier, ...] = ()
    kind: ClassVar[str] = "tiered"

    def required_values(self, frame: EvalFrame) -> np.ndarray:
        return frame.memo((id(self), "required"), lambda: self._required_values(frame))

    def _required_values(self, frame: EvalFrame) -> np.ndarray:
        by = frame.num(self.by)
        req = np.full(frame.n, np.nan)
        open_ = ~np.isnan(by)
        for tier in self.tiers:
            with np.errstate(invalid="ignore"):
                hit = open_ & tier.contains(by)
            req[hit] = tier.value
            open_ &= ~hit
        return req

    def shape(self) -> object:
        return ("tiered", self.field, self.op, self.by, tuple((t.upto, t.below, t.value) for t in self.tiers))

    def _evaluate(self, frame: EvalFrame, sink: Sink | None) -> Outcomes:
        values = frame.num(self.field)
        req = self.required_values(frame)
        op = OPS[self.op]
        with np.errstate(invalid="ignore"):
            out = ts.from_bool(op(values, req), ~np.isnan(values) & ~np.isnan(req))
            unknown_band = np.isnan(req) & ~np.isnan(values)
            if unknown_band.any():
                passes = np.all([op(values, t.value) for t in self.tiers], axis=0)
                fails = np.all([~op(values, t.value) for t in self.tiers], axis=0)
                out[unknown_band & passes] = ts.MET
                out[unknown_band & fails] = ts.NOT_MET
        return out

    def one_firm(self, as_of: dt.date, slot: Slot) -> OneFirm:
        test = SCALAR_OPS[self.op]

        def rule(frame: RowFrame, codes: list[int]) -> int:
            by = frame.scalar(self.by)
            required = float("nan")
            if by == by:
                for tier in self.tiers:
                    if (by <= tier.upto) if tier.upto is not None else \
                            (by < tier.below) if tier.below is not None else True:
                        required = tier.value
                        break
            # left where required_values reads it (explanation, gap, margin)
            frame.remember((id(self), "required"), np.array([required]))
            value = frame.scalar(self.field)
            if value != value:
                return _UNKNOWN
            if required == required:
                return _MET if test(value, required) else _NOT_MET
            if all(test(value, t.value) for t in self.tiers):
                return _MET
            if all(not test(value, t.value) for t in self.tiers):
                return _NOT_MET
            return _UNKNOWN
        return rule

    def fields(self) -> set[str]:
        return {self.field, self.by}

    def observed(self, frame: EvalFrame, row: int) -> Any:
        return frame.value(self.field, row)

    def required_text(self, frame: EvalFrame, row: int) -> str:
        req = self.required_values(frame)[row]
        if np.isnan(req):
            bands = "; ".join(f"{self.op} {format_value(t.value)} if {self.by} {t.text()}" for t in self.tiers)
            return f"{bands} ({self.by} unknown)"
        tier = next(t for t in self.tiers if t.value == req)
        return f"{self.op} {format_value(float(req))} ({self.by} {tier.text()})"

    def gap(self, frame: EvalFrame, row: int) -> float | None:
        req = self.required_values(frame)[row]
        val = frame.num(self.field)[row]
        if np.isnan(req) or np.isnan(val) or OPS[self.op](val, req):
            return None
        return float(abs(req - val))

    def margin(self, frame: EvalFrame) -> np.ndarray | None:
        req = self.required_values(frame)
        values = frame.num(self.field)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            diff = (values - req) / np.where(req == 0, 1.0, np.abs(req))
        return diff if self.op in LOWER_BOUND_OPS else -diff


@dataclass(frozen=True, eq=False)
class Declaration(Criterion):
    """A condition no profile field can express ("core technology in a state-supported field").

    It is never silently met: ``assume: met`` conditions (e.g. "not in a prohibited industry",
    which the authority presumes) are met but listed in the result's verify-yourself checklist;
    ``assume: unknown`` conditions leave the policy undetermined.
    """

    assume: int = ts.UNKNOWN
    kind: ClassVar[str] = "declaration"

    def shape(self) -> object:
        return ("declare", self.assume)

    def _evaluate(self, frame: EvalFrame, sink: Sink | None) -> Outcomes:
        return np.full(frame.n, self.assume, dtype=np.int8)

    def one_firm(self, as_of: dt.date, slot: Slot) -> OneFirm:
        return constant(int(self.assume))

    def required_text(self, frame: EvalFrame, row: int) -> str:
        return "verify yourself" if self.assume == ts.MET else "to be verified (no profile field)"


@dataclass(frozen=True, eq=False)
class AsOfWindow(Criterion):
    """Met when ``as_of`` falls in ``[start, end]`` (inclusive): a branch that only applies
    from a date, e.g. the seven industries added to the VAT refund from 2022-07-01."""

    start: dt.date | None = None
    end: dt.date | None = None
    kind: ClassVar[str] = "as_of_window"

    def shape(self) -> object:
        return ("window", self.start, self.end)

    def outcome_on(self, as_of: dt.date) -> int:
        """The outcome for every firm on ``as_of``."""
        inside = (self.start is None or self.start <= as_of) and (self.end is None or as_of <= self.end)
        return ts.MET if inside else ts.NOT_MET

    def _evaluate(self, frame: EvalFrame, sink: Sink | None) -> Outcomes:
        return np.full(frame.n, self.outcome_on(frame.as_of), dtype=np.int8)

    def one_firm(self, as_of: dt.date, slot: Slot) -> OneFirm:
        return constant(self.outcome_on(as_of))

    def observed(self, frame: EvalFrame, row: int) -> Any:
        return frame.as_of.isoformat()

    def required_text(self, frame: EvalFrame, row: int) -> str:
        return f"as of {self.start.isoformat() if self.start else '…'} .. {self.end.isoformat() if self.end else '…'}"


LEAF_KINDS = (Compare, Membership, Holds, Tiered, Declaration, AsOfWindow)
