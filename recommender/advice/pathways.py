"""Pathways: single changes ranked by the value they unlock across the whole catalog.

Candidates come from the firm's "what it takes" plans: every distinct raise (field → target),
title to obtain and wait, plus each policy's whole plan when it needs several changes. Each
candidate is applied to the profile and all candidates are evaluated together as rows of one
frame (one run per evaluation date) with the same vectorised eligibility engine. A
candidate's value is the change in the firm's total estimated benefit, respecting held titles
and mutual exclusion (:mod:`recommender.engine.relations`), so raising R&D also counts the larger
super-deduction of a policy already eligible.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from recommender import tristate as ts
from recommender.rules import Policy
from recommender.engine import Eligibility, VERDICTS, relation_view, totals
from recommender.advice.levers import fmt, label, unit_of
from recommender.profile import ReferenceTables
from recommender.advice.steps import Plan, Step, cost, step_dict
from recommender.advice.what_it_takes import apply_plan, evaluate_rows

MAX_PATHWAYS = 5


@dataclass(frozen=True)
class Candidate:
    """A change to try: one step, or a policy's whole plan (``for_policy``)."""

    steps: tuple[Step, ...]
    for_policy: str | None = None


def point_benefit(elig: Eligibility) -> np.ndarray:
    """``(n, p)`` point estimate in yuan (mid of low/high); NaN where unknown."""
    cols = []
    for o in elig.outcomes.values():
        lo, hi = o.policy.estimate(elig.frame)
        cols.append(np.where(np.isnan(lo), np.nan, (lo + hi) / 2))
    return np.stack(cols, axis=1) if cols else np.zeros((elig.frame.n, 0))


def candidates(plans: dict[str, Plan]) -> list[Candidate]:
    """Distinct single changes and multi-change bundles from feasible plans."""
    singles: dict[tuple[str, str, str], Candidate] = {}
    bundles: list[Candidate] = []
    for pid, plan in plans.items():
        if any(s.kind == "blocker" for s in plan):
            continue
        changes = [s for s in plan if s.kind in ("raise", "obtain", "wait")]
        for s in changes:
            singles.setdefault((s.kind, s.field or "", str(s.target if s.kind != "wait" else s.via)),
                               Candidate((s,)))
        if len(changes) > 1:
            bundles.append(Candidate(tuple(changes), for_policy=pid))
    return list(singles.values()) + bundles


def _describe(c: Candidate) -> tuple[str, str]:
    if c.for_policy is not None:
        return (f"Do all {len(c.steps)} changes for {c.for_policy}", f"完成 {c.for_policy} 所需的全部{len(c.steps)}项调整")
    s = c.steps[0]
    if s.kind == "raise":
        unit = unit_of(s.field or "")
        en, zh = label(s.field or "")
        by = s.target - s.current
        return (f"Raise {en} to {fmt(s.target, unit)} (+{fmt(by, unit)})", f"将{zh}提高到{fmt(s.target, unit)}（+{fmt(by, unit)}）")
    if s.kind == "obtain":
        via = f" via {s.via}" if s.via else ""
        return (f"Obtain the title {s.target}{via}", f"取得{s.target}称号")
    return (f"Wait until {s.via}", f"等待至{s.via}")


def rank_pathways(policies: list[Policy], cands: list[Candidate], profile: dict[str, Any], as_of: dt.date,
                  ref: ReferenceTables, base_verdicts: np.ndarray, base_total: float,
                  held: np.ndarray) -> list[dict[str, Any]]:
    """Apply every candidate, re-run eligibility in one batch, rank by value gained.

    Parameters
    ----------
    policies : list of Policy
        The catalog columns (same order as ``base_verdicts``).
    cands : list of Candidate
        Changes to try.
    profile : dict
        The firm's profile row (profile columns only).
    as_of : datetime.date
        Evaluation date.
    ref : ReferenceTables
        Reference tables.
    base_verdicts : ndarray of int8, shape (n_policies,)
        The firm's verdicts before any change.
    base_total : float
        The firm's total estimated benefit before any change (yuan, exclusions applied).
    held : ndarray of bool, shape (n_policies,)
        Titles the firm already holds (those policies are never "unlocked").

    Returns
    -------
    list of dict
        At most :data:`MAX_PATHWAYS` pathways that unlock at least one policy (its verdict
        improves: ineligible → undetermined/eligible, undetermined → eligible), best first:
        those that lose no policy; then by ``value`` (yuan of newly eligible policies the
        total counts, ``value_per_year`` per year); then the cheaper change; then
        ``potential_value`` (newly undetermined ones) and the number unlocked. Changes with
        the same effect keep only the cheapest. ``total_change`` is the change of the firm's
        whole total,
        knock-on effects included (e.g. a larger R&D super-deduction).
    """
    if not cands:
        return []
    applied = [apply_plan(profile, list(c.steps), as_of) for c in cands]
    evaluated = evaluate_rows(policies, [a[0] for a in applied], [a[1] for a in applied], ref)
    ids = [p.id for p in policies]
    years = np.array([p.header.benefit.years for p in policies], dtype="float64")
    runs: dict[int, tuple[np.ndarray, np.ndarray, Any, np.ndarray, np.ndarray]] = {}
    rows: list[dict[str, Any]] = []
    for cand, (_, elig, j) in zip(cands, evaluated):
        if id(elig) not in runs:
            v_all, p_all = elig.verdict_matrix(), point_benefit(elig)
            view_all = relation_view(policies, elig.frame, v_all, p_all)
            runs[id(elig)] = (v_all, p_all, view_all, *totals(view_all, p_all))
        v_all, p_all, view, total_all, per_year_all = runs[id(elig)]
        verdicts, point = v_all[j:j + 1], p_all[j:j + 1]
        total, per_year = total_all[j:j + 1], per_year_all[j:j + 1]
        unlocked = [c for c in np.flatnonzero((verdicts[0] > base_verdicts) & ~held)]
        lost = [ids[c] for c in np.flatnonzero((verdicts[0] < base_verdicts) & ~held)]
        if not unlocked:
            continue
        unlocks = [{"policy_id": ids[c], "verdict": VERDICTS[int(verdicts[0, c])],
                    "value": None if np.isnan(point[0, c]) else round(float(point[0, c]), 2),
                    "not_stacked": bool(view.kept_instead[j, c] >= 0)} for c in unlocked]
        sure = [c for c in unlocked if view.counted[j, c] and not np.isnan(point[0, c])]
        maybe = [c for c in unlocked if verdicts[0, c] == ts.UNKNOWN and not np.isnan(point[0, c])]
        gained = sum(float(point[0, c]) for c in sure)
        gained_per_year = sum(float(point[0, c] / years[c]) for c in sure)
        en, zh = _describe(cand)
        n = len(unlocks)
        rows.append({
            "change": en, "change_zh": zh,
            "steps": [step_dict(s) for s in cand.steps],
            "for_policy": cand.for_policy,
            "unlocks": unlocks, "loses": lost,
            "value": round(gained, 2), "value_per_year": round(gained_per_year, 2),
            "potential_value": round(sum(float(point[0, c]) for c in maybe), 2),
            "total_change": round(float(total[0]) - base_total, 2),
            "cost": round(cost(list(cand.steps)), 3),
            "text": f"{en}: unlocks {n} polic{'y' if n == 1 else 'ies'} worth {fmt(gained, 'yuan')} "
                    f"({fmt(gained_per_year, 'yuan')} a year)"
                    + (f", {len(maybe)} more to confirm worth up to {fmt(sum(float(point[0, c]) for c in maybe), 'yuan')}"
                       if maybe else ""),
            "text_zh": f"{zh}：可新增{n}项政策，价值{fmt(gained, 'yuan')}（每年{fmt(gained_per_year, 'yuan')}）",
        })
    rows.sort(key=lambda r: (bool(r["loses"]), -r["value"], r["cost"], -r["potential_value"],
                             -len(r["unlocks"]), r["change"]))
    seen: set[tuple[frozenset[str], float]] = set()
    distinct = []
    for r in sorted(rows, key=lambda r: r["cost"]):   # the cheapest change for the same effect
        effect = (frozenset(u["policy_id"] for u in r["unlocks"]), r["value"])
        if effect not in seen:
            seen.add(effect)
            distinct.append(r)
    rows = [r for r in rows if r in distinct]
    out = rows[:MAX_PATHWAYS]
    for i, r in enumerate(out, start=1):
        r["rank"] = i
    return out

