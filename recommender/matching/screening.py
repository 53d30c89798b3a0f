"""Caseworker screening: many applicants against one policy, eligible first.

Also the reverse match ("which firms qualify for this policy?") used by ``find-firms``:
the same vectorised pass, keeping eligible and undetermined firms.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from recommender import tristate as ts
from recommender.rules import Criterion, Policy
from recommender.engine import VERDICTS, evaluate_catalog
from recommender.facts import source_fields
from recommender.profile import ReferenceTables


def _leaf_label(leaf: Criterion) -> str:
    return f"{leaf.id}: {leaf.label_text}"


def screen_frame(profiles: pd.DataFrame, policy: Policy, as_of: dt.date, ref: ReferenceTables,
                 *, keep: tuple[str, ...] = VERDICTS) -> list[dict[str, Any]]:
    """One row per applicant whose verdict is in ``keep``: verdict, score, failed and unknown
    criteria, fields to supply, estimated benefit; eligible first, then by score."""
    elig = evaluate_catalog([policy], profiles, as_of, ref)
    outcome = elig.outcomes[policy.id]
    frame = elig.frame
    leaves = outcome.leaves()
    share = outcome.share_met()
    score = (outcome.verdict.astype("float64") + share) / 3.0
    low, high = policy.estimate(frame)
    order = np.lexsort((-score, -outcome.verdict.astype("int64")))
    rows = []
    for row in order:
        verdict = VERDICTS[int(outcome.verdict[row])]
        if verdict not in keep:
            continue
        failed = [leaf for leaf in leaves if outcome.nodes[leaf.path][row] == ts.NOT_MET]
        unknown = [leaf for leaf in leaves if outcome.nodes[leaf.path][row] == ts.UNKNOWN
                   and leaf.kind != "declaration"]
        missing = sorted({src for leaf in unknown for f in leaf.fields() for src in source_fields(f)
                          if frame.value(src, row) is None})
        if not outcome.in_force:
            failed_text = [f"policy_in_force: not in force on {as_of.isoformat()}"]
        else:
            failed_text = []
        if outcome.region[row] == ts.NOT_MET:
            failed_text.append("policy_region: registered outside the policy's region")
        rows.append({
            "firm_id": frame.value("firm_id", int(row)),
            "policy_id": policy.id,
            "verdict": verdict,
            "score": round(float(score[row]), 6),
            "estimated_benefit": None if np.isnan(low[row]) else float((low[row] + high[row]) / 2),
            "failed_criteria": failed_text + [_leaf_label(leaf) for leaf in failed],
            "unknown_criteria": [_leaf_label(leaf) for leaf in unknown],
            "missing_fields": missing,
        })
    return rows
