"""Caseworker screening: many applicants against one policy, eligible first.

Also the reverse match ("which firms qualify for this policy?") used by ``find-firms``:
the same vectorised pass, keeping eligible and undetermined firms.

Each row names the firm as a caseworker knows it (``name``, ``credit_code`` and the
``district`` its region code names) and lists only the criteria that carry its verdict (the
support of :func:`~recommender.engine.support_masks`): an eligible firm's row lists no failed
alternative of an "any of", an ineligible firm's lists what failed. ``verify_yourself`` lists
the conditions no profile field expresses, with their clause, for the caseworker to check.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from recommender import tristate as ts
from recommender.rules import Criterion, Policy
from recommender.engine import VERDICTS, evaluate_catalog, support_masks
from recommender.facts import source_fields
from recommender.profile import ReferenceTables


def _leaf_label(leaf: Criterion) -> str:
    return f"{leaf.id}: {leaf.label_text}"


def _verify_label(leaf: Criterion) -> str:
    return f"{leaf.label_text}（{leaf.clause}）" if leaf.clause else leaf.label_text


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def screen_frame(profiles: pd.DataFrame, policy: Policy, as_of: dt.date, ref: ReferenceTables,
                 *, keep: tuple[str, ...] = VERDICTS) -> list[dict[str, Any]]:
    """One row per applicant whose verdict is in ``keep``: who the firm is (id, name, credit
    code, district), verdict, score, the failed and unknown criteria carrying the verdict,
    fields to supply, conditions to verify, estimated benefit; eligible first, then by score."""
    elig = evaluate_catalog([policy], profiles, as_of, ref)
    outcome = elig.outcomes[policy.id]
    frame = elig.frame
    leaves = outcome.leaves()
    masks = support_masks(outcome, frame)
    share = outcome.share_met()
    score = (outcome.verdict.astype("float64") + share) / 3.0
    low, high = policy.estimate(frame)
    order = np.lexsort((-score, -outcome.verdict.astype("int64")))
    header_failed = []
    if not outcome.in_force:
        header_failed.append(f"policy_in_force: 评估日 {as_of.isoformat()} 政策不在有效期内 / "
                             f"not in force on {as_of.isoformat()}")
    rows = []
    for row in order:
        verdict = VERDICTS[int(outcome.verdict[row])]
        if verdict not in keep:
            continue
        carrying = [(leaf, outcome.nodes[leaf.path][row]) for leaf in leaves if masks[leaf.path][row]]
        failed = [leaf for leaf, code in carrying if code == ts.NOT_MET]
        unknown = [leaf for leaf, code in carrying if code == ts.UNKNOWN and leaf.kind != "declaration"]
        missing = sorted({src for leaf in unknown for f in leaf.fields() for src in source_fields(f)
                          if frame.value(src, row) is None})
        failed_text = list(header_failed)
        if outcome.region[row] == ts.NOT_MET:
            failed_text.append("policy_region: 注册地不在政策适用地区 / registered outside the policy's region")
        region = frame.value("region_code", int(row))
        rows.append({
            "firm_id": frame.value("firm_id", int(row)),
            "name": _text(frame.value("name", int(row))),
            "credit_code": _text(frame.value("credit_code", int(row))),
            "district": ref.region_names.get(region) if isinstance(region, str) else None,
            "policy_id": policy.id,
            "verdict": verdict,
            "score": round(float(score[row]), 6),
            "estimated_benefit": None if np.isnan(low[row]) else float((low[row] + high[row]) / 2),
            "failed_criteria": failed_text + [_leaf_label(leaf) for leaf in failed],
            "unknown_criteria": [_leaf_label(leaf) for leaf in unknown],
            "missing_fields": missing,
            "verify_yourself": [_verify_label(leaf) for leaf, _ in carrying if leaf.kind == "declaration"],
        })
    return rows
