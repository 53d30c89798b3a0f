"""Ask the next question: which unknown facts settle the most estimated value.

For every ``undetermined`` policy the facts it is missing are known (``missing_fields`` of
:func:`recommender.engine.eligibility.explain_row`). A fact's weight is the estimated value of the
policies it could settle (the point estimate, else the top of the benefit range, else 0 with
``value_unknown``); a policy missing a single fact is *fully* settled by it. Conditions no
profile field expresses form a separate verify-yourself checklist with their clauses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recommender.advice.levers import label
from recommender.profile import FirmProfile


@dataclass(frozen=True)
class Pending:
    """One undetermined policy of a firm."""

    policy_id: str
    missing_fields: tuple[str, ...]
    value: float | None          # yuan at stake; None when unknown
    verify: tuple[dict[str, Any], ...] = ()


def next_questions(pending: list[Pending]) -> list[dict[str, Any]]:
    """Unknown facts, most valuable first.

    Returns
    -------
    list of dict
        ``{field, question, question_zh, value_at_stake, settles, fully_settles,
        value_unknown}`` ordered by value at stake, then by policies fully settled, then by
        policies touched, then field name.
    """
    by_field: dict[str, dict[str, Any]] = {}
    for p in pending:
        for f in p.missing_fields:
            entry = by_field.setdefault(f, {"field": f, "value_at_stake": 0.0, "settles": [],
                                            "fully_settles": [], "value_unknown": []})
            entry["settles"].append(p.policy_id)
            if len(p.missing_fields) == 1:
                entry["fully_settles"].append(p.policy_id)
            if p.value is None:
                entry["value_unknown"].append(p.policy_id)
            else:
                entry["value_at_stake"] += p.value
    out = []
    for f, entry in by_field.items():
        en, zh = label(f)
        info = FirmProfile.model_fields.get(f)
        desc = info.description if info is not None and info.description else en
        entry["question"] = f"Please provide: {desc}"
        entry["question_zh"] = f"请提供：{zh}"
        entry["value_at_stake"] = round(entry["value_at_stake"], 2)
        out.append(entry)
    out.sort(key=lambda e: (-e["value_at_stake"], -len(e["fully_settles"]), -len(e["settles"]), e["field"]))
    return out


def verify_checklist(pending: list[Pending]) -> list[dict[str, Any]]:
    """Conditions to verify yourself (not presumed met), one entry per condition and policy."""
    return [{"policy_id": p.policy_id, **item} for p in pending for item in p.verify
            if not item.get("assumed")]
