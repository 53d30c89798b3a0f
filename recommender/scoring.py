"""Point scoring: weighted indicator bands summed and compared with a pass mark.

Used by the tech-based SME evaluation (≥ 60 points, S&T-staff score ≠ 0), the innovative SME
evaluation (≥ 60 with block minimums) and the 专精特新 score. With unknown inputs an indicator
scores an *interval* ``[low, high]`` of points; the pass test is met when even the low total
passes, not met when even the high total fails, and unknown otherwise. Indicators no profile
field can observe (expert judgements) score ``[0, max]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from recommender import tristate as ts
from recommender.criteria import OPS, Criterion, Outcomes, Sink, _fmt
from recommender.evalframe import EvalFrame

Interval = tuple[np.ndarray, np.ndarray]


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

    def _band_points(self, frame: EvalFrame) -> Interval:
        values = frame.num(self.field or "")
        unknown = np.isnan(values)
        pts = np.full(frame.n, self.otherwise)
        open_ = ~unknown
        for band in self.bands:
            hit = open_ & band.hit(values)
            pts[hit] = band.points
            open_ &= ~hit
        all_pts = [b.points for b in self.bands] + [self.otherwise]
        low, high = pts.copy(), pts.copy()
        low[unknown], high[unknown] = min(all_pts), max(all_pts)
        return low, high

    def _rule_points(self, frame: EvalFrame) -> Interval:
        n = frame.n
        low, high = np.full(n, np.inf), np.full(n, -np.inf)
        reached = np.ones(n, dtype=bool)
        for cond, pts in self.rules:
            out = cond.evaluate(frame)
            possible = reached & (out != ts.NOT_MET)
            low[possible] = np.minimum(low[possible], pts)
            high[possible] = np.maximum(high[possible], pts)
            reached &= out != ts.MET
        low[reached] = np.minimum(low[reached], self.otherwise)
        high[reached] = np.maximum(high[reached], self.otherwise)
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

    def points(self, frame: EvalFrame) -> Interval:
        low, high = np.zeros(frame.n), np.zeros(frame.n)
        for ind in self.indicators:
            lo, hi = ind.points(frame)
            low += lo
            high += hi
        if self.cap is not None:
            low, high = np.minimum(low, self.cap), np.minimum(high, self.cap)
        return low, high


def _interval_test(low: np.ndarray, high: np.ndarray, op: str, bound: float) -> Outcomes:
    fn = OPS[op]
    surely = fn(low, bound) & fn(high, bound)
    never = ~fn(low, bound) & ~fn(high, bound)
    out = np.full(low.shape, ts.UNKNOWN, dtype=np.int8)
    out[surely] = ts.MET
    out[never] = ts.NOT_MET
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
        return frame.memo((id(self), "totals"), lambda: self._totals(frame))  # type: ignore[no-any-return]

    def _totals(self, frame: EvalFrame) -> tuple[Interval, dict[str, Interval]]:
        per_block = {b.id: b.points(frame) for b in self.blocks}
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
            lo, hi = self._indicator(ind_id).points(frame)
            parts.append(_interval_test(lo, hi, ">", 0.0))
        return ts.all_of(parts, frame.n)

    def fields(self) -> set[str]:
        return set().union(*(i.fields() for b in self.blocks for i in b.indicators))

    def observed(self, frame: EvalFrame, row: int) -> Any:
        (low, high), per_block = self.totals(frame)
        detail = {}
        for block in self.blocks:
            for ind in block.indicators:
                lo, hi = frame.memo((id(ind), "points"), lambda ind=ind: ind.points(frame))
                detail[ind.id] = _span(lo[row], hi[row])
        return {"points": _span(low[row], high[row]),
                "blocks": {k: _span(v[0][row], v[1][row]) for k, v in per_block.items()},
                "indicators": detail}

    def required_text(self, frame: EvalFrame, row: int) -> str:
        extra = [f"{b.id} >= {_fmt(b.minimum)}" for b in self.blocks if b.minimum is not None]
        extra += [f"{i} > 0" for i in self.nonzero]
        tail = f" and {', '.join(extra)}" if extra else ""
        return f"points {self.op} {_fmt(self.pass_mark)}{tail}"

    def gap(self, frame: EvalFrame, row: int) -> float | None:
        (low, high), _ = self.totals(frame)
        if high[row] < self.pass_mark:
            return float(self.pass_mark - high[row])
        return None

    def margin(self, frame: EvalFrame) -> np.ndarray | None:
        (low, high), _ = self.totals(frame)
        return ((low + high) / 2 - self.pass_mark) / self.pass_mark


def _span(lo: float, hi: float) -> float | list[float]:
    return float(lo) if lo == hi else [float(lo), float(hi)]
