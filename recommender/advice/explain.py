"""The ``--explain`` layer of one firm's result: what it takes, near misses, pathways, questions.

Runs only when :class:`recommender.matching.results.MatchOptions` has ``explain`` set, one firm at a
time, on top of the batch eligibility run: plans for every policy the firm does not qualify
for (:mod:`recommender.advice.what_it_takes`), verified by re-evaluation; pathways ranked by the
value they unlock (:mod:`recommender.advice.pathways`); and the unknown facts worth asking for
(:mod:`recommender.advice.questions`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recommender import tristate as ts
from recommender.engine import Eligibility, RelationView, explain_row, grantor_of
from recommender.profile import PROFILE_KINDS, ReferenceTables
from recommender.advice.pathways import candidates, rank_pathways
from recommender.advice.questions import Pending, next_questions, verify_checklist
from recommender.advice.steps import Plan, blocked, cost
from recommender.advice.what_it_takes import plan_for, result_dict, verify_plans


def _value(point: float, high: float) -> float | None:
    if not np.isnan(point):
        return round(float(point), 2)
    return None if np.isnan(high) else round(float(high), 2)


def profile_row(profiles: pd.DataFrame, row: int) -> dict[str, Any]:
    """One firm's profile columns as a dict (NaN / NaT / None where unknown)."""
    rec = profiles.iloc[row]
    return {name: rec[name] for name in PROFILE_KINDS}


def explain_firm(elig: Eligibility, profiles: pd.DataFrame, row: int, matches: list[dict[str, Any]],
                 view: RelationView, point: np.ndarray, ref: ReferenceTables,
                 top_k: int = 10) -> dict[str, Any]:
    """Explain one firm; adds ``what_it_takes`` to its non-eligible ``matches`` in place.

    Returns
    -------
    dict
        ``near_misses`` (ineligible policies within reach, fewest and cheapest changes first),
        ``pathways`` (single changes ranked by value unlocked), ``next_questions`` and
        ``verify_yourself`` (firm-level checklist of conditions no profile field expresses).
    """
    frame, as_of = elig.frame, elig.frame.as_of
    policies = [o.policy for o in elig.outcomes.values()]
    outcomes = list(elig.outcomes.values())
    verdicts = elig.verdict_matrix()[row]
    grantors = grantor_of(policies, as_of)
    high = np.stack([o.policy.estimate(frame)[1] for o in outcomes], axis=1)[row] if outcomes else np.zeros(0)
    profile = profile_row(profiles, row)
    original = {f: float(v) for f, v in profile.items()
                if PROFILE_KINDS[f] == "number" and v is not None and not pd.isna(v)}

    targets: dict[str, Plan] = {}
    for col, o in enumerate(outcomes):
        if verdicts[col] != ts.MET and not view.held[row, col]:
            targets[o.policy.id] = plan_for(o, frame, row, grantors)
    plans, after = verify_plans(policies, targets, profile, original, as_of, ref, grantors)

    col_of = {p.id: i for i, p in enumerate(policies)}
    takes = {pid: result_dict(plan, after.get(pid), _value(point[row, col_of[pid]], high[col_of[pid]]))
             for pid, plan in plans.items()}
    for m in matches:
        if m["policy_id"] in takes:
            m["what_it_takes"] = takes[m["policy_id"]]

    near = sorted((pid for pid in plans if verdicts[col_of[pid]] == ts.NOT_MET and not blocked(plans[pid])),
                  key=lambda pid: (not takes[pid]["verified"], takes[pid]["changes"], cost(plans[pid]),
                                   -(takes[pid]["value"] or 0.0), pid))
    near_misses = [{"policy_id": pid, "title": f"{policies[col_of[pid]].header.title_zh} / "
                                                f"{policies[col_of[pid]].header.title_en}",
                    "estimated_benefit": takes[pid]["value"], "what_it_takes": takes[pid]}
                   for pid in near[:top_k]]

    base_total = float(np.nansum(np.where(view.counted[row], point[row], np.nan)))
    cands = candidates({pid: p for pid, p in plans.items() if takes[pid]["verified"]})
    paths = rank_pathways(policies, cands, profile, as_of, ref, elig.verdict_matrix()[row],
                          base_total, view.held[row])

    pending = []
    for col, o in enumerate(outcomes):
        if verdicts[col] == ts.UNKNOWN and not view.held[row, col]:
            info = explain_row(o, frame, row)
            pending.append(Pending(o.policy.id, tuple(info["missing_fields"]),
                                   _value(point[row, col], high[col]), tuple(info["verify_yourself"])))
    return {"near_misses": near_misses, "pathways": paths,
            "next_questions": next_questions(pending), "verify_yourself": verify_checklist(pending)}
