"""Eligibility of one firm against a whole catalog, compiled once: the serving fast path.

:func:`recommender.eligibility.evaluate_catalog` evaluates node by node with numpy, which is
right for many firms and costs milliseconds for one (hundreds of calls on arrays of one
element). :class:`EligibilityPlan` flattens the catalog once: every distinct node (by the
engine's own :attr:`~recommender.criteria.Criterion.memo_key`, so nodes shared between
policies are evaluated once, as in the engine) gets a slot, composites become a post-order
program, and per ``as_of`` (:meth:`EligibilityPlan.dated`, kept for a few dates) the
comparison leaves become ``(column, operator, resolved threshold)`` rows read with plain
Python floats. A request then pays a few hundred scalar operations.

Semantics are the engine's, not a second copy: membership leaves use the node's own per-code
decisions (:meth:`~recommender.criteria.Membership.outcome_of`); tiered, score and any other
leaf kind run their own vectorised ``evaluate`` on the one-row frame
(:class:`~recommender.rowframe.RowFrame`), as do derived facts and benefit formulas. What is
restated for scalars — the comparison and margin of :class:`~recommender.criteria.Compare`
and :class:`~recommender.criteria.Holds`, Kleene ``all``/``any``/``not`` and the support walk
of ``eligibility._support_masks`` — is held equal to the engine by a hypothesis test over
generated profiles × every policy (``tests/recommender/test_row_eligibility.py``).
"""

from __future__ import annotations

import datetime as dt
import operator
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from recommender import tristate as ts
from recommender.catalog import Policy
from recommender.criteria import (LOWER_BOUND_OPS, OPS, UPPER_BOUND_OPS, AllOf, AnyOf, AsOfWindow, Compare,
                                  Criterion, Declaration, Holds, Membership, Not, Tiered)
from recommender.eligibility import header_criteria, leaf_entry, region_check, support_lists
from recommender.pairs_table import MARGIN_CLIP
from recommender.row_scoring import evaluate_score, rule_conditions
from recommender.rowframe import RowFrame
from recommender.scoring import Score

SCALAR_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne,
}
"""The registry :data:`recommender.criteria.OPS` on Python floats (IEEE, as numpy's)."""
assert SCALAR_OPS.keys() == OPS.keys(), "criteria.OPS changed: update SCALAR_OPS"
T = TypeVar("T")
DATES_KEPT = 8
"""Dated plans kept per catalog (requests default to today; tests and replays use others)."""


class PerDate(Generic[T]):
    """What ``build(as_of)`` returns, built once per date and shared between threads; the
    :data:`DATES_KEPT` most recently built dates are kept (the oldest goes first)."""

    def __init__(self, build: Callable[[dt.date], T]) -> None:
        self._build = build
        self._kept: dict[dt.date, T] = {}
        self._lock = threading.Lock()

    def get(self, as_of: dt.date) -> T:
        hit = self._kept.get(as_of)
        if hit is None:
            with self._lock:
                hit = self._kept.get(as_of)
                if hit is None:
                    hit = self._build(as_of)
                    if len(self._kept) >= DATES_KEPT:
                        self._kept.pop(next(iter(self._kept)))
                    self._kept[as_of] = hit
        return hit

_SEQUENTIAL_SUM = 8
"""numpy sums fewer than 8 values in order; from 8 on pairwise (margin means use numpy then)."""

_MET, _UNKNOWN, _NOT_MET = ts.MET, ts.UNKNOWN, ts.NOT_MET
_NAN = float("nan")
_NUM, _DAYS, _ALL, _ANY, _NOT, _CONST, _IN, _SCORE, _NODE, _TIERED = range(10)


class EligibilityPlan:
    """The catalog (or a family of it) flattened for one-firm evaluation.

    Parameters
    ----------
    policies : sequence of Policy
        The policies, in result-column order (the catalog's).
    """

    def __init__(self, policies: Sequence[Policy]) -> None:
        self.policies = list(policies)
        slots: dict[object, int] = {}
        self.program: list[tuple[int, Criterion]] = []      # distinct nodes, children first

        def slot(node: Criterion) -> int:
            key = node.memo_key
            if key in slots:
                return slots[key]
            for dep in (*node.children(), *(rule_conditions(node) if isinstance(node, Score) else ())):
                slot(dep)
            if node.children() and node.kind not in ("all", "any", "not"):
                raise TypeError(f"{node.path}: no one-firm rule for composite kind {node.kind!r}")
            s = slots[key] = len(slots)
            self.program.append((s, node))
            return s

        self.slot_of_key = slots
        self.node_slot: list[dict[str, int]] = []        # per policy: path → slot
        self.roots: list[int] = []
        for p in self.policies:
            self.roots.append(slot(p.criteria))
            self.node_slot.append({n.path: slot(n) for n in p.criteria.walk()})
        self.n_slots = len(slots)
        self.regions = [region_check(p.header.region_prefixes) if p.header.region_prefixes else None
                        for p in self.policies]
        self.measurable = [[self.node_slot[j][c.path] for c in p.leaves if not isinstance(c, Declaration)]
                           for j, p in enumerate(self.policies)]
        self._dated: PerDate[DatedPlan] = PerDate(lambda day: DatedPlan(self, day))

    def dated(self, as_of: dt.date) -> DatedPlan:
        """The plan with thresholds resolved on ``as_of`` (built once per date, a few kept)."""
        return self._dated.get(as_of)


class DatedPlan:
    """An :class:`EligibilityPlan` on one ``as_of``: comparison rows with their thresholds."""

    def __init__(self, plan: EligibilityPlan, as_of: dt.date) -> None:
        self.plan = plan
        self.as_of = as_of
        self.in_force = [p.in_force(as_of) for p in plan.policies]
        self.steps: list[tuple[int, int, Any, Any, Any]] = []     # (tag, slot, …) children first
        self.margin_rows: dict[int, tuple[str, float, float, bool]] = {}   # slot → (column, required, scale, upper)
        self.margin_nodes: dict[int, Criterion] = {}       # slot → node whose own margin is used
        key_slot = plan.slot_of_key
        for s, node in plan.program:
            if isinstance(node, (AllOf, AnyOf, Not)):
                kids = tuple(key_slot[k.memo_key] for k in node.children())
                self.steps.append((_ALL if isinstance(node, AllOf) else _ANY if isinstance(node, AnyOf) else _NOT,
                                   s, kids, None, None))
            elif isinstance(node, Declaration):
                self.steps.append((_CONST, s, int(node.assume), None, None))
            elif isinstance(node, AsOfWindow):
                self.steps.append((_CONST, s, node.outcome_on(as_of), None, None))
            elif isinstance(node, Compare) and node.field_kind in ("number", "bool", "date"):
                v = node.value.resolve(as_of)
                if v is None:         # no dated value in force on as_of: the rule does not exist yet
                    self.steps.append((_CONST, s, _NOT_MET, None, None))
                    continue
                required = float(v)
                self.steps.append((_DAYS if node.field_kind == "date" else _NUM, s, node.field,
                                   SCALAR_OPS[node.op], required))
                if node.field_kind == "number" and node.op in LOWER_BOUND_OPS + UPPER_BOUND_OPS:
                    self.margin_rows[s] = (node.field, required, abs(required) if required else 1.0,
                                           node.op in UPPER_BOUND_OPS)
            elif isinstance(node, Holds):
                self.steps.append((_NUM, s, node.column, operator.eq, 0.0 if node.negate else 1.0))
            elif isinstance(node, Membership):
                self.steps.append((_IN, s, node, node.field, None))
            elif isinstance(node, Tiered):
                self.steps.append((_TIERED, s, node, SCALAR_OPS[node.op], None))
                self.margin_nodes[s] = node
            elif isinstance(node, Score):
                self.steps.append((_SCORE, s, node, None, None))
                self.margin_nodes[s] = node
            else:                     # tiered, as-of window, …: the node's own evaluate
                self.steps.append((_NODE, s, node, None, None))
                self.margin_nodes[s] = node

        # per policy, in leaf order: the leaves with a margin, as a comparison row or a node
        self.margin_sources: list[list[tuple[tuple[str, float, float, bool] | None, Criterion | None]]] = []
        for j, p in enumerate(plan.policies):
            slot_of = plan.node_slot[j]
            sources: list[tuple[tuple[str, float, float, bool] | None, Criterion | None]] = []
            for leaf in p.leaves:
                s = slot_of[leaf.path]
                if s in self.margin_rows:
                    sources.append((self.margin_rows[s], None))
                elif s in self.margin_nodes:
                    sources.append((None, self.margin_nodes[s]))
            self.margin_sources.append(sources)

    def evaluate(self, frame: RowFrame) -> RowEligibility:
        """Every policy's outcomes for the firm of ``frame`` (its ``as_of`` must be this plan's)."""
        if frame.as_of != self.as_of:
            raise ValueError(f"frame as of {frame.as_of}, plan as of {self.as_of}")
        plan = self.plan
        codes = [0] * plan.n_slots
        value_of = frame.scalar

        def code_of(node: Criterion) -> int:
            return codes[key_slot[node.memo_key]]

        key_slot = plan.slot_of_key
        for tag, s, a, b, c in self.steps:
            if tag == _NUM or tag == _DAYS:
                v = value_of(a) if tag == _NUM else frame.scalar_days(a)
                codes[s] = _UNKNOWN if v != v else (_MET if b(v, c) else _NOT_MET)
            elif tag == _ALL:
                codes[s] = min([codes[k] for k in a]) if a else _MET
            elif tag == _ANY:
                codes[s] = max([codes[k] for k in a]) if a else _NOT_MET
            elif tag == _CONST:
                codes[s] = a
            elif tag == _IN:
                codes[s] = a.outcome_of(frame.value(b, 0), frame)
            elif tag == _NOT:
                codes[s] = _MET - codes[a[0]]
            elif tag == _SCORE:
                codes[s] = evaluate_score(a, frame, code_of, value_of, SCALAR_OPS)
            elif tag == _TIERED:
                codes[s] = _tiered_code(a, b, frame)
            else:
                codes[s] = int(a.evaluate(frame)[0])
        regions = [_MET if node is None else node.outcome_of(frame.value("region_code", 0), frame)
                   for node in plan.regions]
        verdicts = [min(codes[root], region) if live else _NOT_MET
                    for root, region, live in zip(plan.roots, regions, self.in_force, strict=True)]
        return RowEligibility(self, frame, codes, regions, verdicts)


def _tiered_code(node: Tiered, op: Callable[[float, float], bool], frame: RowFrame) -> int:
    """As ``Tiered._evaluate`` for one firm; its required value is left in the frame memo
    (where ``required_values`` reads it for the explanation, gap and margin)."""
    by = frame.scalar(node.by)
    required = _NAN
    if by == by:
        for tier in node.tiers:
            if (by <= tier.upto) if tier.upto is not None else (by < tier.below) if tier.below is not None else True:
                required = tier.value
                break
    frame._memo[(id(node), "required")] = np.array([required])
    value = frame.scalar(node.field)
    if value != value:
        return _UNKNOWN
    if required == required:
        return _MET if op(value, required) else _NOT_MET
    if all(op(value, t.value) for t in node.tiers):
        return _MET
    if all(not op(value, t.value) for t in node.tiers):
        return _NOT_MET
    return _UNKNOWN


class RowEligibility:
    """One firm's outcomes: a code per distinct node, a verdict and region outcome per policy."""

    def __init__(self, dated: DatedPlan, frame: RowFrame, codes: list[int], regions: list[int],
                 verdicts: list[int]) -> None:
        self.dated = dated
        self.frame = frame
        self.codes = codes
        self.regions = regions
        self.verdicts = verdicts

    def node_code(self, j: int, path: str) -> int:
        """Outcome code of the node at ``path`` of policy column ``j``."""
        return self.codes[self.dated.plan.node_slot[j][path]]

    def share_met(self, j: int) -> float:
        """As :meth:`PolicyOutcome.share_met`: share of measurable leaves met (1 without any)."""
        slots = self.dated.plan.measurable[j]
        if not slots:
            return 1.0
        codes = self.codes
        return sum(1 for s in slots if codes[s] == _MET) / len(slots)

    def unknown_count(self, j: int) -> float:
        slots = self.dated.plan.measurable[j]
        codes = self.codes
        return float(sum(1 for s in slots if codes[s] == _UNKNOWN))

    def margin_summary(self, j: int) -> tuple[float, float, float]:
        """As :func:`recommender.pairs_table.margin_summary`: (min, mean, max) clipped relative
        margin over the policy's numeric leaves; NaN when none is known."""
        frame = self.frame
        margins: list[float] = []
        for row, node in self.dated.margin_sources[j]:
            if row is not None:
                column, required, scale, upper = row
                diff = (frame.scalar(column) - required) / scale
                m = -diff if upper else diff
            else:
                arr = node.margin(frame)  # type: ignore[union-attr]
                if arr is None:
                    continue
                m = float(np.asarray(arr, dtype="float64")[0])
            margins.append(m if m != m else min(max(m, -MARGIN_CLIP), MARGIN_CLIP))
        known = [m for m in margins if m == m]
        if not known:
            nan = float("nan")
            return nan, nan, nan
        if len(margins) >= _SEQUENTIAL_SUM:      # numpy's pairwise order, as the engine sums
            total = float(np.nansum(np.array(margins)[:, None], axis=0)[0])
        else:
            total = 0.0
            for m in known:
                total += m
        return min(known), total / len(known), max(known)

    def _support(self, j: int) -> list[tuple[Criterion, int]]:
        """The leaves carrying policy ``j``'s outcome, with their codes (as
        ``eligibility._support_masks`` for this firm): every child of an ``all`` (only the
        failing ones when it fails), the deciding route of an ``any``."""
        slot_of = self.dated.plan.node_slot[j]
        codes = self.codes
        out: list[tuple[Criterion, int]] = []

        def walk(node: Criterion) -> None:
            kids = node.children()
            if not kids:
                out.append((node, codes[slot_of[node.path]]))
                return
            code = codes[slot_of[node.path]]
            taken = False
            for kid in kids:
                kc = codes[slot_of[kid.path]]
                if node.kind == "any":
                    take = kc == code and not taken
                    taken = taken or (kc == code and code == _MET)
                elif node.kind == "all":
                    take = code != _NOT_MET or kc == _NOT_MET
                else:
                    take = True
                if take:
                    walk(kid)

        walk(self.dated.plan.policies[j].criteria)
        return out

    def explain(self, j: int) -> dict[str, Any]:
        """As :func:`recommender.eligibility.explain_row` for this firm and policy column ``j``."""
        policy = self.dated.plan.policies[j]
        frame = self.frame
        criteria = header_criteria(policy, self.dated.in_force[j], self.regions[j], frame.as_of,
                                   frame.value("region_code", 0) if policy.header.region_prefixes else None)
        slot_of, codes = self.dated.plan.node_slot[j], self.codes
        criteria += [leaf_entry(leaf, codes[slot_of[leaf.path]], frame, 0) for leaf in policy.leaves]
        missing, verify = support_lists(self._support(j), frame, 0)
        return {"criteria": criteria, "missing_fields": missing, "verify_yourself": verify}
