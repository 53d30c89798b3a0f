"""What it takes: the smallest changes that would make a firm eligible for a policy.

For a policy the firm does not (yet) qualify for, walk its criteria tree and, for every leaf
that is not met, say what would meet it:

* ``raise`` — a numeric lever up to the exact threshold (a ratio through its numerator with
  the denominator fixed: "R&D expense must rise by ¥312,000 to reach 3 % of revenue"; a
  tiered rule at the firm's own tier);
* ``wait`` — a date, when only time is short (registration age, years in the niche);
* ``obtain`` — a title, via the policy that grants it;
* ``supply`` — an unknown fact to provide; ``verify`` — a condition no profile field
  expresses (verify yourself, with its clause);
* ``blocker`` — nothing a firm can legitimately do: its industry or region, an upper bound on
  its size, a record in the past, a policy that has ended.

``any`` nodes take their cheapest branch; score nodes the cheapest set of indicator moves
that lifts the points. Plans are then applied to the profile and re-evaluated with the same
vectorised eligibility engine (all policies' plans as rows of one frame); a plan that still
falls short is refined from the changed profile (up to three rounds), and each result says
whether it was verified.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from recommender import tristate as ts
from recommender.rules import (AllOf, AnyOf, AsOfWindow, Compare, Criterion, Declaration, Holds, Indicator,
                               LOWER_BOUND_OPS, Membership, Not, OPS, Policy, Score, Tiered, format_value)
from recommender.engine import VERDICTS, Eligibility, PolicyOutcome, evaluate_catalog
from recommender.facts import EvalFrame, source_fields
from recommender.profile import ReferenceTables, coerce_frame
from recommender.advice.levers import WAIT_FIELDS, LEVERS, Move, fmt, label, lever_of, smallest_move, unit_of
from recommender.advice.steps import Plan, Step, blocked, cost, step_dict

_ROUNDS = 3
_DAYS_PER_YEAR = 365.2425
COSTS = {"supply": 0.05, "verify": 1.0, "obtain": 3.0, "raise_base": 0.5}


# --------------------------------------------------------------------------- analysis


class _Analyzer:
    """Plans for one firm (a row of ``frame``) and one policy's evaluated tree."""

    def __init__(self, frame: EvalFrame, row: int, nodes: dict[str, np.ndarray],
                 grantors: dict[str, str], valid_to: dt.date | None) -> None:
        self.frame, self.row, self.nodes = frame, row, nodes
        self.grantors, self.valid_to = grantors, valid_to

    def outcome(self, node: Criterion) -> int:
        if node.path in self.nodes:
            return int(self.nodes[node.path][self.row])
        return int(node.evaluate(self.frame)[self.row])

    def plan(self, node: Criterion) -> Plan:
        code = self.outcome(node)
        if code == ts.MET:
            return []
        if isinstance(node, AllOf):
            return [s for c in node.items for s in self.plan(c)]
        if isinstance(node, AnyOf):
            # An unknown "any" is settled by the facts of its unknown branches, not by changes.
            kids = [c for c in node.items if code != ts.UNKNOWN or self.outcome(c) == ts.UNKNOWN]
            options = [self.plan(c) for c in kids]
            return min(options, key=lambda p: (blocked(p), sum(s.kind == "blocker" for s in p), cost(p)))
        if isinstance(node, Not):
            return [self._blocker(node, "the opposite condition holds for the firm")]
        if isinstance(node, Declaration):
            return [Step("verify", node.id, reason_en=node.label_en, reason_zh=node.label_zh,
                         clause=node.clause, cost=COSTS["verify"])]
        if code == ts.UNKNOWN and not isinstance(node, Score):
            return self._supply(node)
        if isinstance(node, (Compare, Tiered)):
            return self._numeric_leaf(node)
        if isinstance(node, Holds):
            return self._holds(node)
        if isinstance(node, Membership):
            return [self._blocker(node, f"{node.field} {node.observed(self.frame, self.row)} is "
                                        f"{node.required_text(self.frame, self.row)} only")]
        if isinstance(node, AsOfWindow):
            return self._window(node)
        if isinstance(node, Score):
            return self._score(node, code)
        return [self._blocker(node, "not met")]

    # leaves ------------------------------------------------------------------------
    def _blocker(self, node: Criterion, why: str) -> Step:
        return Step("blocker", node.id, reason_en=f"{node.label_en}: {why}", reason_zh=node.label_zh,
                    clause=node.clause, cost=math.inf)

    def _supply(self, node: Criterion) -> Plan:
        fields = sorted({src for f in node.fields() for src in source_fields(f)
                         if self.frame.value(src, self.row) is None})
        if not fields:
            return [self._blocker(node, "cannot be computed from the profile")]
        return [Step("supply", node.id, field=f, reason_en=node.label_en, reason_zh=node.label_zh,
                     clause=node.clause, cost=COSTS["supply"]) for f in fields]

    def _numeric_leaf(self, node: Compare | Tiered) -> Plan:
        if isinstance(node, Compare) and node.field_kind == "date":
            return self._wait_date(node)
        if isinstance(node, Compare) and node.field_kind == "bool":
            return [self._blocker(node, f"the firm's record ({node.field} = "
                                        f"{format_value(node.observed(self.frame, self.row))}) cannot be changed now")]
        if isinstance(node, Tiered):
            required = float(node.required_values(self.frame)[self.row])
        else:
            value = node.value.resolve(self.frame.as_of)
            if value is None:
                return [self._blocker(node, f"the rule is not in force on {self.frame.as_of}")]
            required = float(value)
        if node.op not in LOWER_BOUND_OPS:
            return [self._blocker(node, f"an upper bound ({node.op} {format_value(required)}) on a fact a firm "
                                        f"cannot legitimately lower")]
        return self.raise_to(node, node.field, node.op, required)

    def raise_to(self, node: Criterion | Indicator, field: str, op: str, required: float) -> Plan:
        """The move of ``field``'s lever to meet ``field op required`` (or a blocker)."""
        if field == "age_years":
            return self._wait_age(node, op, required)
        lever, den = lever_of(field)
        values = {f: float(self.frame.num(f)[self.row]) for f in (lever, den) if f}
        move = smallest_move(field, op, required, values)
        clause = getattr(node, "clause", "")
        if isinstance(move, str):
            if move == "unknown":
                fields = sorted(f for f in (lever, den) if f and math.isnan(values[f]))
                return [Step("supply", node.id, field=f, reason_en=node.label_en, reason_zh=node.label_zh,
                             clause=clause, cost=COSTS["supply"]) for f in fields]
            why = "not something a firm can change by acting" if move == "not a lever" else move
            return [Step("blocker", node.id, field=field, reason_en=f"{node.label_en}: {why}",
                         reason_zh=node.label_zh, clause=clause, cost=math.inf)]
        goal_en, goal_zh = _goal_text(field, op, required, den)
        if move.field in WAIT_FIELDS:
            years = move.target - move.current
            day = self.frame.as_of + dt.timedelta(days=math.ceil(years * _DAYS_PER_YEAR))
            return self._wait_step(node, day, move, goal_en, goal_zh, clause)
        weight = LEVERS[move.field][1]
        rel = (move.target - move.current) / max(abs(move.current), 1.0)
        return [Step("raise", node.id, field=move.field, current=move.current, target=move.target,
                     reason_en=goal_en, reason_zh=goal_zh, clause=clause,
                     cost=COSTS["raise_base"] + weight * min(rel, 10.0))]

    def _wait_step(self, node: Criterion | Indicator, day: dt.date, move: Move | None,
                   goal_en: str, goal_zh: str, clause: str) -> Plan:
        if self.valid_to is not None and day > self.valid_to:
            return [Step("blocker", node.id, reason_en=f"{node.label_en}: met only from {day}, after the "
                                                       f"policy ends on {self.valid_to}",
                         reason_zh=node.label_zh, clause=clause, cost=math.inf)]
        days = (day - self.frame.as_of).days
        return [Step("wait", node.id, field=move.field if move else None,
                     current=move.current if move else None,
                     target=move.target if move else day.isoformat(),
                     via=day.isoformat(), reason_en=goal_en, reason_zh=goal_zh, clause=clause,
                     cost=days / _DAYS_PER_YEAR)]

    def _wait_date(self, node: Compare) -> Plan:
        day = node.date_when_met(self.frame, self.row)
        if day is None or node.op not in ("<=", "<"):
            return [self._blocker(node, "a date condition that time does not fix")]
        if node.op == "<":
            day += dt.timedelta(days=1)
        return self._wait_step(node, day, None, node.label_en, node.label_zh, node.clause)

    def _wait_age(self, node: Criterion | Indicator, op: str, required: float) -> Plan:
        est = self.frame.days("established_on")[self.row]
        if np.isnan(est):
            return [Step("supply", node.id, field="established_on", reason_en=node.label_en,
                         reason_zh=node.label_zh, cost=COSTS["supply"])]
        day = dt.date(1970, 1, 1) + dt.timedelta(days=int(est) + math.ceil(required * _DAYS_PER_YEAR))
        if op == ">":
            day += dt.timedelta(days=1)
        return self._wait_step(node, day, None, node.label_en, node.label_zh, getattr(node, "clause", ""))

    def _holds(self, node: Holds) -> Plan:
        if node.negate:
            return [self._blocker(node, f"the firm holds {node.cert}")]
        via = self.grantors.get(node.cert)
        return [Step("obtain", node.id, field="certifications", target=node.cert, via=via,
                     reason_en=node.label_en, reason_zh=node.label_zh, clause=node.clause,
                     cost=COSTS["obtain"])]

    def _window(self, node: AsOfWindow) -> Plan:
        if node.start is not None and self.frame.as_of < node.start:
            return self._wait_step(node, node.start, None, node.label_en, node.label_zh, node.clause)
        return [self._blocker(node, f"this route ended on {node.end}")]

    # scores ------------------------------------------------------------------------
    def _score(self, node: Score, code: int) -> Plan:
        if code == ts.UNKNOWN:
            return self._score_unknown(node)
        points = {ind.id: ind.points(self.frame) for b in node.blocks for ind in b.indicators}
        high = {k: float(v[1][self.row]) for k, v in points.items()}
        options = {ind.id: self._indicator_options(ind, high[ind.id])
                   for b in node.blocks for ind in b.indicators}
        choices = [k for k, v in options.items() if v]
        best: tuple[float, Plan] | None = None
        for size in (1, 2, 3):
            for combo in itertools.combinations(choices, size):
                for picks in itertools.product(*(options[k] for k in combo)):
                    new = dict(high)
                    plan: Plan = []
                    for k, (pts, steps) in zip(combo, picks):
                        new[k] = max(new[k], pts)
                        plan += steps
                    if _score_passes(node, new) and (best is None or cost(plan) < best[0]):
                        best = (cost(plan), plan)
            if best is not None:
                return best[1]
        gap = node.gap(self.frame, self.row)
        return [self._blocker(node, f"{format_value(gap or 0.0)} points short and no combination of observable "
                                    f"indicators closes the gap")]

    def _score_unknown(self, node: Score) -> Plan:
        plan: Plan = []
        judged = []
        for block in node.blocks:
            for ind in block.indicators:
                lo, hi = ind.points(self.frame)
                if lo[self.row] == hi[self.row]:
                    continue
                fields = sorted({src for f in ind.fields() for src in source_fields(f)
                                 if self.frame.value(src, self.row) is None})
                plan += [Step("supply", node.id, field=f, reason_en=f"{node.label_en}: {ind.label_en}",
                              reason_zh=f"{node.label_zh}：{ind.label_zh}", clause=node.clause,
                              cost=COSTS["supply"]) for f in fields]
                if not fields:
                    judged.append(ind)
        if judged:
            plan.append(Step("verify", node.id,
                             reason_en=f"{node.label_en} (judged indicators: {', '.join(i.label_en for i in judged)})",
                             reason_zh=f"{node.label_zh}（需评审的指标：{'、'.join(i.label_zh for i in judged)}）",
                             clause=node.clause, cost=COSTS["verify"]))
        return plan

    def _indicator_options(self, ind: Indicator, current: float) -> list[tuple[float, Plan]]:
        """``(new points, plan)`` for each higher band the firm could reach by a feasible plan."""
        if ind.unobservable:
            return []
        out: list[tuple[float, Plan]] = []
        if ind.best_of:
            for sub in ind.best_of:
                out += [(p, s) for p, s in self._indicator_options(sub, current) if p > current]
        elif ind.bands and ind.field is not None:
            if np.isnan(self.frame.num(ind.field)[self.row]):
                return []
            for band in ind.bands:
                if band.points > current:
                    op, thr = (">=", band.min) if band.min is not None else (">", band.above)
                    if thr is not None:
                        out.append((band.points, self.raise_to(ind, ind.field, op, thr)))
        else:
            for cond, pts in ind.rules:
                if pts > current:
                    out.append((pts, self.plan(cond)))
        return [(p, s) for p, s in out if s and not blocked(s)][:8]


def _score_passes(node: Score, high: dict[str, float]) -> bool:
    total = 0.0
    for block in node.blocks:
        pts = sum(high[i.id] for i in block.indicators)
        pts = min(pts, block.cap) if block.cap is not None else pts
        if block.minimum is not None and pts < block.minimum:
            return False
        total += pts
    if any(high[i] <= 0 for i in node.nonzero):
        return False
    return bool(OPS[node.op](total, node.pass_mark))


def _goal_text(field: str, op: str, required: float, den: str) -> tuple[str, str]:
    word = "at least" if op == ">=" else "above"
    word_zh = "不低于" if op == ">=" else "高于"
    if den:
        if field == "revenue_growth":
            return (f"to reach revenue growth {word} {fmt(required, 'share')}",
                    f"使营业收入增长率{word_zh}{fmt(required, 'share')}")
        den_en, den_zh = label(den)
        return (f"to reach {fmt(required, 'share')} of {den_en} ({field} {op} {format_value(required)})",
                f"达到{den_zh}的{fmt(required, 'share')}")
    unit = unit_of(field)
    return (f"to reach {word} {fmt(required, unit)}", f"达到{word_zh}{fmt(required, unit)}")


# --------------------------------------------------------------------------- plans → verified results


def merge(base: Plan, extra: Plan, original: dict[str, float]) -> Plan:
    """Union of two plans; a field raised twice keeps the larger target (from the original value)."""
    out: dict[tuple[str, str], Step] = {}
    for step in base + extra:
        if step.kind == "raise" and step.field is not None:
            step = replace(step, current=original.get(step.field, step.current))
        prev = out.get(step.key)
        if prev is None or (step.kind in ("raise", "wait") and _later(step, prev)):
            out[step.key] = step
    return list(out.values())


def _later(a: Step, b: Step) -> bool:
    if a.kind == "wait":
        return str(a.via) > str(b.via)
    return float(a.target) > float(b.target)


def apply_plan(profile: dict[str, Any], plan: Plan, as_of: dt.date) -> tuple[dict[str, Any], dt.date]:
    """The profile after a plan's raises, titles and waits; and the date to evaluate on."""
    out = dict(profile)
    day = as_of
    for step in plan:
        if step.kind == "raise" and step.field is not None:
            out[step.field] = step.target
        elif step.kind == "obtain":
            held = [c for c in (out.get("certifications") or "").split(";") if c]
            out["certifications"] = ";".join(sorted(set(held) | {str(step.target)}))
        elif step.kind == "wait":
            if step.field is not None:
                out[step.field] = step.target
            else:
                day = max(day, dt.date.fromisoformat(str(step.via)))
    return out, day


def evaluate_rows(policies: list[Policy], rows: list[dict[str, Any]], days: list[dt.date],
                  ref: ReferenceTables) -> list[tuple[dt.date, Eligibility, int]]:
    """Evaluate profile rows, one run per evaluation date; ``(day, Eligibility, row)`` per input."""
    out: list[Any] = [None] * len(rows)
    for day in sorted(set(days)):
        idx = [i for i, d in enumerate(days) if d == day]
        frame = coerce_frame(pd.DataFrame([rows[i] for i in idx]))
        elig = evaluate_catalog(policies, frame, day, ref)
        for j, i in enumerate(idx):
            out[i] = (day, elig, j)
    return out


def plan_for(outcome: PolicyOutcome, frame: EvalFrame, row: int, grantors: dict[str, str]) -> Plan:
    """The first-round plan for one policy and one firm (no verification)."""
    policy = outcome.policy
    h = policy.header
    analyzer = _Analyzer(frame, row, outcome.nodes, grantors, h.valid_to)
    plan: Plan = []
    if not outcome.in_force:
        if frame.as_of < h.valid_from:
            plan.append(Step("wait", "policy_in_force", via=h.valid_from.isoformat(),
                             reason_en="the policy takes effect", reason_zh="政策生效",
                             cost=(h.valid_from - frame.as_of).days / _DAYS_PER_YEAR))
        else:
            plan.append(Step("blocker", "policy_in_force", reason_en=f"the policy ended on {h.valid_to}",
                             reason_zh=f"政策已于{h.valid_to}到期", cost=math.inf))
    if outcome.region[row] == ts.NOT_MET:
        plan.append(Step("blocker", "policy_region",
                         reason_en=f"registered outside the policy's region ({', '.join(h.region_prefixes)})",
                         reason_zh="注册地不在政策适用地区", cost=math.inf))
    return merge(plan + analyzer.plan(policy.criteria), [], {})


def result_dict(plan: Plan, verdict_after: str | None, value: float | None) -> dict[str, Any]:
    """The ``what_it_takes`` block of one match."""
    waits = [str(s.via) for s in plan if s.kind == "wait"]
    achievable = not blocked(plan)
    changes = [s for s in plan if s.kind in ("raise", "wait", "obtain")]
    return {
        "achievable": achievable,
        "eligible_from": max(waits) if waits else None,
        "steps": [step_dict(s) for s in sorted(plan, key=_step_order)],
        "verdict_after": verdict_after,
        "verified": bool(achievable and verdict_after is not None and (
            verdict_after == "eligible" or (verdict_after == "undetermined"
                                            and any(s.kind in ("supply", "verify") for s in plan)))),
        "changes": len(changes),
        "value": value,
    }


def _step_order(step: Step) -> int:
    return ["blocker", "raise", "obtain", "wait", "supply", "verify"].index(step.kind)


def verify_plans(policies: list[Policy], targets: dict[str, Plan], profile: dict[str, Any],
                 original: dict[str, float], as_of: dt.date, ref: ReferenceTables,
                 grantors: dict[str, str]) -> tuple[dict[str, Plan], dict[str, str]]:
    """Apply every target policy's plan to the profile, re-evaluate, refine short plans.

    Returns the final plans and the verdict each policy gets after its plan.
    """
    by_id = {p.id: p for p in policies}
    plans = dict(targets)
    verdicts: dict[str, str] = {}
    pending = [pid for pid, plan in plans.items() if not blocked(plan)]
    for round_ in range(_ROUNDS + 1):
        if not pending:
            break
        applied = [apply_plan(profile, plans[pid], as_of) for pid in pending]
        evaluated = evaluate_rows([by_id[pid] for pid in pending], [a[0] for a in applied],
                                  [a[1] for a in applied], ref)
        still = []
        for pid, (_, elig, j) in zip(pending, evaluated):
            outcome = elig.outcomes[pid]
            verdicts[pid] = VERDICTS[int(outcome.verdict[j])]
            if outcome.verdict[j] != ts.NOT_MET or round_ == _ROUNDS:
                continue
            merged = merge(plans[pid], plan_for(outcome, elig.frame, j, grantors), original)
            progressed = {(s.key, s.target) for s in merged} != {(s.key, s.target) for s in plans[pid]}
            plans[pid] = merged
            if progressed and not blocked(merged):
                still.append(pid)
        pending = still
    return plans, verdicts
