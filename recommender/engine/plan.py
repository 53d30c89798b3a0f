"""Eligibility of one firm against a whole catalog, compiled once: the serving fast path.

:func:`recommender.engine.eligibility.evaluate_catalog` evaluates node by node with numpy, which is
right for many firms and costs milliseconds for one (hundreds of calls on arrays of one
element). :class:`EligibilityPlan` flattens the catalog once: every distinct node (by the
engine's own :attr:`~recommender.rules.node.Criterion.memo_key`, so nodes shared between
policies are evaluated once, as in the engine) gets a slot in a post-order program, and per
``as_of`` (:meth:`EligibilityPlan.dated`, kept for a few dates) each node contributes its own
one-firm rule (:meth:`~recommender.rules.node.Criterion.one_firm`, thresholds resolved), which
reads plain Python floats. A request then pays a few hundred scalar operations.

Semantics are the nodes' own: each criterion class holds its array and its one-firm
evaluation side by side, and a hypothesis test over generated profiles × every policy holds
them equal (``tests/recommender/test_row_eligibility.py``), as it does the support walk below
(the one-firm form of ``eligibility.support_masks``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from recommender import tristate as ts
from recommender.rules import Criterion, Declaration, OneFirm, Policy
from recommender.engine.eligibility import MARGIN_CLIP, header_criteria, leaf_entry, region_check, support_lists
from recommender.facts import RowFrame

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
            for dep in node.dependencies():
                slot(dep)
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
    """An :class:`EligibilityPlan` on one ``as_of``: each distinct node's one-firm rule
    (:meth:`~recommender.rules.node.Criterion.one_firm`), thresholds resolved, children first."""

    def __init__(self, plan: EligibilityPlan, as_of: dt.date) -> None:
        self.plan = plan
        self.as_of = as_of
        self.in_force = [p.in_force(as_of) for p in plan.policies]
        key_slot = plan.slot_of_key

        def slot(node: Criterion) -> int:
            return key_slot[node.memo_key]

        self.steps: list[tuple[int, OneFirm]] = [(s, node.one_firm(as_of, slot)) for s, node in plan.program]
        # per policy, in leaf order: each leaf's margin, as a comparison row or the node itself
        self.margin_sources: list[list[tuple[tuple[str, float, float, bool] | None, Criterion | None]]] = []
        for p in plan.policies:
            sources: list[tuple[tuple[str, float, float, bool] | None, Criterion | None]] = []
            for leaf in p.leaves:
                row = leaf.margin_row(as_of)
                if row is not None:
                    sources.append((row, None))
                elif type(leaf).margin is not Criterion.margin:
                    sources.append((None, leaf))
            self.margin_sources.append(sources)

    def evaluate(self, frame: RowFrame) -> RowEligibility:
        """Every policy's outcomes for the firm of ``frame`` (its ``as_of`` must be this plan's)."""
        if frame.as_of != self.as_of:
            raise ValueError(f"frame as of {frame.as_of}, plan as of {self.as_of}")
        plan = self.plan
        codes = [0] * plan.n_slots
        for s, rule in self.steps:
            codes[s] = rule(frame, codes)
        regions = [_MET if node is None else node.outcome_of(frame.value("region_code", 0), frame)
                   for node in plan.regions]
        verdicts = [min(codes[root], region) if live else _NOT_MET
                    for root, region, live in zip(plan.roots, regions, self.in_force, strict=True)]
        return RowEligibility(self, frame, codes, regions, verdicts)


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
        """As :func:`recommender.ranking.pairs.margin_summary`: (min, mean, max) clipped relative
        margin over the policy's numeric leaves; NaN when none is known."""
        frame = self.frame
        margins: list[float] = []
        for row, node in self.dated.margin_sources[j]:
            if row is not None:
                column, required, scale, upper = row
                diff = (frame.scalar(column) - required) / scale
                m = -diff if upper else diff
            else:
                arr = node.margin(frame)  # type: ignore[union-attr]  # margin sources hold a node when they hold no row
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
        ``eligibility.support_masks`` for this firm): every child of an ``all`` (only the
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
        """As :func:`recommender.engine.eligibility.explain_row` for this firm and policy column ``j``."""
        policy = self.dated.plan.policies[j]
        frame = self.frame
        criteria = header_criteria(policy, self.dated.in_force[j], self.regions[j], frame.as_of,
                                   frame.value("region_code", 0) if policy.header.region_prefixes else None)
        slot_of, codes = self.dated.plan.node_slot[j], self.codes
        criteria += [leaf_entry(leaf, codes[slot_of[leaf.path]], frame, 0) for leaf in policy.leaves]
        missing, verify = support_lists(self._support(j), frame, 0)
        return {"criteria": criteria, "missing_fields": missing, "verify_yourself": verify}
