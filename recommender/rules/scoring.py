"""Point scoring: weighted indicator bands summed and compared with a pass mark.

Used by the tech-based SME evaluation (≥ 60 points, S&T-staff score ≠ 0), the innovative SME
evaluation (≥ 60 with block minimums) and the 专精特新 score. With unknown inputs an indicator
scores an *interval* ``[low, high]`` of points; the pass test is met when even the low total
passes, not met when even the high total fails, and unknown otherwise. Indicators no profile
field can observe (expert judgements) score ``[0, max]``.

Each level (indicator, block, score) has its array form (``points``, ``_evaluate``) and beside
it its one-firm form on Python floats (``span``, ``one_firm``), summed in the same order so
the totals are the same floats; a hypothesis test holds them equal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from recommender import tristate as ts
from recommender.rules.node import Criterion, OneFirm, Outcomes, Sink, Slot
from recommender.rules.operators import OPS, SCALAR_OPS, format_value
from recommender.facts import EvalFrame

if TYPE_CHECKING:
    from recommender.facts import RowFrame

Interval = tuple[np.ndarray, np.ndarray]
Span = tuple[float, float]
"""An interval of points for one firm (:data:`Interval` is the same over a frame)."""
CodeOf = Callable[[Criterion], int]
ValueOf = Callable[[str], float]


@dataclass(frozen=True)
class Band:
    """``points`` when the value is ``>= min`` (or ``> above``); bands are tried top-down."""

    points: float
    min: float | None = None
    above: float | None = None

    def hit(self, values: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            if self.min is not None:
                return values >= self.min
            if self.above is not None:
                return values > self.above
        return np.ones(values.shape, dtype=bool)


@dataclass(frozen=True, eq=False)
class Indicator:
    """One scored indicator: bands on a field, rules, best-of, or unobservable."""

    id: str
    label_zh: str
    label_en: str
    max_points: float
    field: str | None = None
    bands: tuple[Band, ...] = ()
    rules: tuple[tuple[Criterion, float], ...] = ()
    otherwise: float = 0.0
    best_of: tuple[Indicator, ...] = ()
    unobservable: bool = False

    def fields(self) -> set[str]:
        out = {self.field} if self.field else set()
        for cond, _ in self.rules:
            out |= cond.fields()
        for sub in self.best_of:
            out |= sub.fields()
        return out

    def points(self, frame: EvalFrame) -> Interval:
        n = frame.n
        if self.unobservable:
            return np.zeros(n), np.full(n, self.max_points)
        if self.best_of:
            parts = [sub.points(frame) for sub in self.best_of]
            return (np.max([p[0] for p in parts], axis=0), np.max([p[1] for p in parts], axis=0))
        if self.bands:
            return self._band_points(frame)
        return self._rule_points(frame)

    def span(self, code_of: CodeOf, value_of: ValueOf, spans: dict[int, Span]) -> Span:
        """:meth:`points` for one firm: ``value_of`` reads its numbers, ``code_of`` the
        outcome codes of rule conditions; the span is also left in ``spans`` by id."""
        if self.unobservable:
            out: Span = (0.0, float(self.max_points))
        elif self.best_of:
            parts = [sub.span(code_of, value_of, spans) for sub in self.best_of]
            out = (max(p[0] for p in parts), max(p[1] for p in parts))
        elif self.bands:
            out = self._band_span(value_of(self.field or ""))
        else:
            code = 0
            for i, (cond, _) in enumerate(self.rules):
                code += code_of(cond) * 3 ** i
            low, high = self._rule_table
            out = (float(low[code]), float(high[code]))
        spans[id(self)] = out
        return out

    def rule_conditions(self) -> list[Criterion]:
        """Every rule condition of this indicator and its best-of parts."""
        return [cond for cond, _ in self.rules] + [c for sub in self.best_of for c in sub.rule_conditions()]

    def _band_points(self, frame: EvalFrame) -> Interval:
        # One bit per band hit plus one for "unknown", then a lookup: the first band that hits
        # wins, an unknown value spans every band's points (computed per code, once).
        values = frame.num(self.field or "")
        k = len(self.bands)
        code = np.isnan(values).view(np.uint8) * np.uint8(1 << k)     # (multiplies: numpy's
        for j, band in enumerate(self.bands):                         # shifts are slow)
            code |= band.hit(values).view(np.uint8) * np.uint8(1 << j)
        low, high = self._band_table
        return low[code], high[code]

    def _band_span(self, value: float) -> Span:
        """:meth:`_band_points` for one value: the same code, from scalar comparisons."""
        k = len(self.bands)
        if value != value:
            code = 1 << k
        else:
            code = 0
            for j, band in enumerate(self.bands):
                if band.min is not None:
                    hit = value >= band.min
                elif band.above is not None:
                    hit = value > band.above
                else:
                    hit = True
                if hit:
                    code |= 1 << j
        low, high = self._band_table
        return float(low[code]), float(high[code])

    @cached_property
    def _band_table(self) -> Interval:
        k = len(self.bands)
        if k > 7:
            raise ValueError(f"indicator {self.id}: at most 7 bands")
        all_pts = [b.points for b in self.bands] + [self.otherwise]
        low, high = np.empty(1 << (k + 1)), np.empty(1 << (k + 1))
        for code in range(1 << (k + 1)):
            if code >> k:
                low[code], high[code] = min(all_pts), max(all_pts)
            else:
                first = next((b.points for j, b in enumerate(self.bands) if code >> j & 1), self.otherwise)
                low[code] = high[code] = first
        return low, high

    def _rule_points(self, frame: EvalFrame) -> Interval:
        # Rules top-down: a rule's points are possible while no earlier rule is surely met.
        # The interval depends only on the rules' outcome codes: one base-3 digit per rule,
        # then a lookup (computed per combination, once).
        code = np.zeros(frame.n, dtype=np.int16)
        for i, (cond, _) in enumerate(self.rules):
            code += cond.evaluate(frame).astype(np.int16) * np.int16(3 ** i)
        low, high = self._rule_table
        return low[code], high[code]

    @cached_property
    def _rule_table(self) -> Interval:
        k = len(self.rules)
        if k > 8:
            raise ValueError(f"indicator {self.id}: at most 8 rules")
        low, high = np.empty(3 ** k), np.empty(3 ** k)
        for code in range(3 ** k):
            lo, hi, reached = np.inf, -np.inf, True
            for i, (_, pts) in enumerate(self.rules):
                out = code // 3 ** i % 3
                if reached and out != ts.NOT_MET:
                    lo, hi = min(lo, pts), max(hi, pts)
                reached = reached and out != ts.MET
            if reached:
                lo, hi = min(lo, self.otherwise), max(hi, self.otherwise)
            low[code], high[code] = lo, hi
        return low, high


def add_whole_points(parts: list[Any], const_hi: float) -> tuple[Any, Any]:
    """``(low, high)`` sums of indicator intervals (arrays, or numbers for one firm), the
    constant indicators' maximum added to the first high: one order of additions for the
    array engine and the one-firm plan, so both give the same float."""
    low, high = parts[0][0] + 0.0, parts[0][1] + float(const_hi)
    for lo, hi in parts[1:]:
        low += lo
        high += hi
    return low, high


@dataclass(frozen=True, eq=False)
class Block:
    """A group of indicators with an optional cap and an optional minimum to pass."""

    id: str
    label_zh: str
    label_en: str
    indicators: tuple[Indicator, ...]
    cap: float | None = None
    minimum: float | None = None

    @cached_property
    def whole_points(self) -> bool:
        """Every point value (and the cap) is a whole number: sums are then exact in any order."""
        def values(ind: Indicator) -> list[float]:
            out = [ind.max_points, ind.otherwise, *(b.points for b in ind.bands), *(p for _, p in ind.rules)]
            return out + [v for sub in ind.best_of for v in values(sub)]
        return all(float(v).is_integer() for ind in self.indicators for v in values(ind)) and \
            (self.cap is None or float(self.cap).is_integer())

    def points(self, frame: EvalFrame) -> Interval:
        if self.whole_points:
            # Constant indicators (unobservable: [0, max]) are added as numbers, not arrays.
            const_hi = sum(ind.max_points for ind in self.indicators if ind.unobservable)
            parts = [indicator_points(ind, frame) for ind in self.indicators if not ind.unobservable]
            if parts:
                low, high = add_whole_points(parts, const_hi)
            else:
                low, high = np.zeros(frame.n), np.full(frame.n, float(const_hi))
        else:
            low, high = np.zeros(frame.n), np.zeros(frame.n)
            for ind in self.indicators:
                lo, hi = indicator_points(ind, frame)
                low += lo
                high += hi
        if self.cap is not None:
            low, high = np.minimum(low, self.cap), np.minimum(high, self.cap)
        return low, high


    def span(self, code_of: CodeOf, value_of: ValueOf, spans: dict[int, Span]) -> Span:
        """:meth:`points` for one firm, summed in the same order (the same floats)."""
        if self.whole_points:
            const_hi = sum(ind.max_points for ind in self.indicators if ind.unobservable)
            for ind in self.indicators:
                if ind.unobservable:        # recorded for ``observed``, added as a constant
                    spans[id(ind)] = (0.0, float(ind.max_points))
            parts = [ind.span(code_of, value_of, spans) for ind in self.indicators if not ind.unobservable]
            if parts:
                low, high = add_whole_points(parts, const_hi)
            else:
                low, high = 0.0, float(const_hi)
        else:
            low = high = 0.0
            for ind in self.indicators:
                lo, hi = ind.span(code_of, value_of, spans)
                low += lo
                high += hi
        if self.cap is not None:
            low, high = min(low, self.cap), min(high, self.cap)
        return low, high

def indicator_points(ind: Indicator, frame: EvalFrame) -> Interval:
    """``ind.points(frame)``, computed once per frame (treat the arrays as read-only)."""
    return frame.memo((id(ind), "points"), lambda: ind.points(frame))


def _interval_test(low: np.ndarray, high: np.ndarray, op: str, bound: float) -> Outcomes:
    fn = OPS[op]
    # both bounds pass: 1 + 1 = MET; both fail: NOT_MET; one of them: UNKNOWN
    out = fn(low, bound).view(np.int8) + fn(high, bound).view(np.int8)
    return out


@dataclass(frozen=True, eq=False)
class Score(Criterion):
    """Total of the blocks ``op pass_mark``, each block at least its minimum, and the
    ``nonzero`` indicators scoring more than zero."""

    blocks: tuple[Block, ...] = ()
    op: str = ">="
    pass_mark: float = 60.0
    nonzero: tuple[str, ...] = ()
    kind: ClassVar[str] = "score"

    def _indicator(self, ind_id: str) -> Indicator:
        return next(i for b in self.blocks for i in b.indicators if i.id == ind_id)

    def totals(self, frame: EvalFrame) -> tuple[Interval, dict[str, Interval]]:
        return frame.memo((id(self), "totals"), lambda: self._totals(frame))

    def _totals(self, frame: EvalFrame) -> tuple[Interval, dict[str, Interval]]:
        per_block = {b.id: b.points(frame) for b in self.blocks}
        if all(b.whole_points for b in self.blocks) and len(per_block) > 1:
            parts = list(per_block.values())
            low, high = parts[0][0] + parts[1][0], parts[0][1] + parts[1][1]
            for lo, hi in parts[2:]:
                low += lo
                high += hi
            return (low, high), per_block
        low = np.sum([v[0] for v in per_block.values()], axis=0)
        high = np.sum([v[1] for v in per_block.values()], axis=0)
        return (low, high), per_block

    def _evaluate(self, frame: EvalFrame, sink: Sink | None) -> Outcomes:
        (low, high), per_block = self.totals(frame)
        parts = [_interval_test(low, high, self.op, self.pass_mark)]
        for block in self.blocks:
            if block.minimum is not None:
                parts.append(_interval_test(*per_block[block.id], ">=", block.minimum))
        for ind_id in self.nonzero:
            lo, hi = indicator_points(self._indicator(ind_id), frame)
            parts.append(_interval_test(lo, hi, ">", 0.0))
        return ts.all_of(parts, frame.n)

    def dependencies(self) -> tuple[Criterion, ...]:
        """The rule conditions of every indicator: the one-firm rule reads their outcomes."""
        return tuple(c for b in self.blocks for i in b.indicators for c in i.rule_conditions())

    def one_firm(self, as_of: dt.date, slot: Slot) -> OneFirm:
        """As :meth:`_evaluate` for one firm, on scalars; the intervals are left in the
        frame's memo, where :meth:`observed`, :meth:`gap` and :meth:`margin` read them."""
        test, at_least, above = SCALAR_OPS[self.op], SCALAR_OPS[">="], SCALAR_OPS[">"]
        slots = {id(c): slot(c) for c in self.dependencies()}

        def rule(frame: RowFrame, codes: list[int]) -> int:
            spans: dict[int, Span] = {}
            per_block = {b.id: b.span(lambda c: codes[slots[id(c)]], frame.scalar, spans) for b in self.blocks}
            parts = list(per_block.values())
            if all(b.whole_points for b in self.blocks) and len(parts) > 1:
                low, high = parts[0][0] + parts[1][0], parts[0][1] + parts[1][1]
                for lo, hi in parts[2:]:
                    low += lo
                    high += hi
            else:
                low = high = 0.0
                for lo, hi in parts:
                    low += lo
                    high += hi
            code = _span_test(low, high, test, self.pass_mark)
            for block in self.blocks:
                if block.minimum is not None:
                    code = min(code, _span_test(*per_block[block.id], at_least, block.minimum))
            for ind_id in self.nonzero:
                code = min(code, _span_test(*spans[id(self._indicator(ind_id))], above, 0.0))
            self._remember(frame, (low, high), per_block, spans)
            return code
        return rule

    def _remember(self, frame: RowFrame, total: Span, per_block: dict[str, Span], spans: dict[int, Span]) -> None:
        """Leave the intervals under the memo keys :func:`indicator_points` and :meth:`totals`
        read, as arrays made only if read (most scored policies are neither shown nor candidates)."""
        for block in self.blocks:
            for ind in block.indicators:
                span = spans.get(id(ind))
                if span is not None:
                    frame.defer((id(ind), "points"), _ones_of(span))
        frame.defer((id(self), "totals"), lambda: ((_one(total[0]), _one(total[1])),
                                                    {k: (_one(v[0]), _one(v[1])) for k, v in per_block.items()}))

    def fields(self) -> set[str]:
        return set().union(*(i.fields() for b in self.blocks for i in b.indicators))

    def observed(self, frame: EvalFrame, row: int) -> Any:
        (low, high), per_block = self.totals(frame)
        detail = {}
        for block in self.blocks:
            for ind in block.indicators:
                lo, hi = indicator_points(ind, frame)
                detail[ind.id] = _span(lo[row], hi[row])
        return {"points": _span(low[row], high[row]),
                "blocks": {k: _span(v[0][row], v[1][row]) for k, v in per_block.items()},
                "indicators": detail}

    def required_text(self, frame: EvalFrame, row: int) -> str:
        extra = [f"{b.id} >= {format_value(b.minimum)}" for b in self.blocks if b.minimum is not None]
        extra += [f"{i} > 0" for i in self.nonzero]
        tail = f" and {', '.join(extra)}" if extra else ""
        return f"points {self.op} {format_value(self.pass_mark)}{tail}"

    def gap(self, frame: EvalFrame, row: int) -> float | None:
        (low, high), _ = self.totals(frame)
        if high[row] < self.pass_mark:
            return float(self.pass_mark - high[row])
        return None

    def margin(self, frame: EvalFrame) -> np.ndarray | None:
        (low, high), _ = self.totals(frame)
        return ((low + high) / 2 - self.pass_mark) / self.pass_mark


def _span_test(low: float, high: float, op: Callable[[float, float], bool], bound: float) -> int:
    """:func:`_interval_test` for one firm."""
    return int(op(low, bound)) + int(op(high, bound))


_ONES: dict[float, np.ndarray] = {}


def _one(x: float) -> np.ndarray:
    """``np.array([x])``, read-only and shared: points and totals take few distinct values
    (zero is not shared: -0.0 == 0.0 as a key, and the sign is kept)."""
    out = _ONES.get(x) if x else None
    if out is None:
        out = np.array([x])
        out.flags.writeable = False
        if x and x == x and len(_ONES) < 10_000:
            _ONES[x] = out
    return out


def _ones_of(span: Span) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    """A deferred ``(low, high)`` pair of one-element arrays for one firm's span."""
    return lambda: (_one(span[0]), _one(span[1]))


def _span(lo: float, hi: float) -> float | list[float]:
    return float(lo) if lo == hi else [float(lo), float(hi)]
