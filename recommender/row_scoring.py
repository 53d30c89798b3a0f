"""Point scoring (:mod:`recommender.scoring`) for one firm, on Python floats.

The vectorised :class:`~recommender.scoring.Score` costs a few hundred numpy calls on a frame
of one row. Here each indicator's interval is read from the node's own lookup tables
(``Indicator._band_table`` / ``_rule_table``) at a code computed from scalars; a rule
condition's outcome comes from the caller (the one-firm plan evaluates them with every other
node). Blocks are summed in the order ``Block.points`` / ``Score._totals`` sum them, so the
totals are the same floats. The intervals are then stored in the frame's memo under the keys
the node's own ``observed``/``gap``/``margin`` read (``indicator_points`` and ``totals``):
explaining a match never recomputes them (made into arrays only when read). A hypothesis test holds the outcomes and intervals
equal to the vectorised node's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from recommender.criteria import Criterion
from recommender.rowframe import RowFrame
from recommender.scoring import Block, Indicator, Score, add_whole_points

Span = tuple[float, float]
CodeOf = Callable[[Criterion], int]
ValueOf = Callable[[str], float]


def rule_conditions(score: Score) -> list[Criterion]:
    """Every rule condition of a score's indicators (the plan evaluates them as nodes)."""
    out: list[Criterion] = []

    def visit(ind: Indicator) -> None:
        out.extend(cond for cond, _ in ind.rules)
        for sub in ind.best_of:
            visit(sub)

    for block in score.blocks:
        for ind in block.indicators:
            visit(ind)
    return out


def _band_span(ind: Indicator, value: float) -> Span:
    k = len(ind.bands)
    if value != value:
        code = 1 << k
    else:
        code = 0
        for j, band in enumerate(ind.bands):
            if band.min is not None:
                hit = value >= band.min
            elif band.above is not None:
                hit = value > band.above
            else:
                hit = True
            if hit:
                code |= 1 << j
    low, high = ind._band_table
    return float(low[code]), float(high[code])


def _indicator_span(ind: Indicator, code_of: CodeOf, value_of: ValueOf, spans: dict[int, Span]) -> Span:
    if ind.unobservable:
        out: Span = (0.0, float(ind.max_points))
    elif ind.best_of:
        parts = [_indicator_span(sub, code_of, value_of, spans) for sub in ind.best_of]
        out = (max(p[0] for p in parts), max(p[1] for p in parts))
    elif ind.bands:
        out = _band_span(ind, value_of(ind.field or ""))
    else:
        code = 0
        for i, (cond, _) in enumerate(ind.rules):
            code += code_of(cond) * 3 ** i
        low, high = ind._rule_table
        out = (float(low[code]), float(high[code]))
    spans[id(ind)] = out
    return out


def _block_span(block: Block, code_of: CodeOf, value_of: ValueOf, spans: dict[int, Span]) -> Span:
    if block.whole_points:
        const_hi = sum(ind.max_points for ind in block.indicators if ind.unobservable)
        for ind in block.indicators:
            if ind.unobservable:        # recorded for ``observed``, added as a constant
                spans[id(ind)] = (0.0, float(ind.max_points))
        parts = [_indicator_span(ind, code_of, value_of, spans) for ind in block.indicators if not ind.unobservable]
        if parts:
            low, high = add_whole_points(parts, const_hi)
        else:
            low, high = 0.0, float(const_hi)
    else:
        low = high = 0.0
        for ind in block.indicators:
            lo, hi = _indicator_span(ind, code_of, value_of, spans)
            low += lo
            high += hi
    if block.cap is not None:
        low, high = min(low, block.cap), min(high, block.cap)
    return low, high


def _test(low: float, high: float, op: Callable[[float, float], bool], bound: float) -> int:
    return int(op(low, bound)) + int(op(high, bound))


def evaluate_score(score: Score, frame: RowFrame, code_of: CodeOf, value_of: ValueOf,
                   ops: dict[str, Callable[[float, float], bool]]) -> int:
    """The outcome code of ``score`` for the one firm of ``frame``; its intervals are left in
    the frame's memo for the node's explanations."""
    spans: dict[int, Span] = {}
    per_block = {b.id: _block_span(b, code_of, value_of, spans) for b in score.blocks}
    parts = list(per_block.values())
    if all(b.whole_points for b in score.blocks) and len(parts) > 1:
        low, high = parts[0][0] + parts[1][0], parts[0][1] + parts[1][1]
        for lo, hi in parts[2:]:
            low += lo
            high += hi
    else:
        low = high = 0.0
        for lo, hi in parts:
            low += lo
            high += hi
    op = ops[score.op]
    code = _test(low, high, op, score.pass_mark)
    for block in score.blocks:
        if block.minimum is not None:
            code = min(code, _test(*per_block[block.id], ops[">="], block.minimum))
    for ind_id in score.nonzero:
        code = min(code, _test(*spans[id(score._indicator(ind_id))], ops[">"], 0.0))
    _remember(score, frame, (low, high), per_block, spans)
    return code


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


def _remember(score: Score, frame: RowFrame, total: Span, per_block: dict[str, Span],
              spans: dict[int, Span]) -> None:
    """Leave the intervals where the node's ``observed``/``gap``/``margin`` read them, as
    arrays made only if read (most scored policies are neither shown nor candidates)."""
    for block in score.blocks:
        for ind in block.indicators:
            span = spans.get(id(ind))
            if span is not None:
                frame.defer((id(ind), "points"), lambda span=span: (_one(span[0]), _one(span[1])))
    frame.defer((id(score), "totals"), lambda: ((_one(total[0]), _one(total[1])),
                                                 {k: (_one(v[0]), _one(v[1])) for k, v in per_block.items()}))
