"""Eligibility: the catalog × a frame of firms → per-criterion outcomes and per-policy verdicts.

Written once over arrays; a single firm is a frame of one row. Each policy's tree is preceded
by two checks the catalog header implies: the policy is in force on ``as_of`` and, for a
regional policy, the firm is registered in its region.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recommender import tristate as ts
from recommender.rules import Catalog, Criterion, Declaration, Membership, Policy
from recommender.facts import EvalFrame
from recommender.held import held
from recommender.profile import ReferenceTables

VERDICTS: tuple[str, ...] = ("ineligible", "undetermined", "eligible")
IN_FORCE = "policy_in_force"
REGION = "policy_region"


@dataclass
class PolicyOutcome:
    """Outcomes of one policy over every firm of the frame."""

    policy: Policy
    verdict: np.ndarray                     # int8: 0 ineligible, 1 undetermined, 2 eligible
    in_force: bool
    region: np.ndarray                      # int8 tristate of the region check
    nodes: dict[str, np.ndarray] = field(default_factory=dict)   # path → outcomes

    def leaves(self) -> list[Criterion]:
        return self.policy.leaves

    def share_met(self) -> np.ndarray:
        """Share of the policy's measurable leaves (not declarations) that are met."""
        leaves = [c for c in self.leaves() if not isinstance(c, Declaration)]
        if not leaves:
            return np.ones(len(self.verdict))
        stacked = np.stack([self.nodes[c.path] for c in leaves])
        return (stacked == ts.MET).mean(axis=0)

    def unknown_count(self) -> np.ndarray:
        leaves = [c for c in self.leaves() if not isinstance(c, Declaration)]
        if not leaves:
            return np.zeros(len(self.verdict))
        return (np.stack([self.nodes[c.path] for c in leaves]) == ts.UNKNOWN).sum(axis=0)


@dataclass
class Eligibility:
    """The result of one eligibility run."""

    frame: EvalFrame
    outcomes: dict[str, PolicyOutcome]

    @property
    def policy_ids(self) -> list[str]:
        return list(self.outcomes)

    def verdict_matrix(self) -> np.ndarray:
        """``(n_firms, n_policies)`` int8 verdict codes, policies in ``policy_ids`` order."""
        return np.stack([o.verdict for o in self.outcomes.values()], axis=1)


MARGIN_CLIP = 10.0
"""Relative margins are clipped to ±10 (a firm 50× above a bar is not 50× "more" eligible)."""

_REGION_CHECKS: dict[tuple[str, ...], Membership] = {}


def region_check(prefixes: tuple[str, ...]) -> Membership:
    """The region test of a regional policy (``region_code`` by prefix), one node per prefix
    list, built once: it keeps its per-code decisions."""
    check = _REGION_CHECKS.get(prefixes)
    if check is None:
        check = _REGION_CHECKS.setdefault(prefixes, Membership(
            id=REGION, label_zh="", label_en="", clause="", path=REGION,
            field="region_code", values=prefixes, prefix=True))
    return check


def _region_check(policy: Policy, frame: EvalFrame) -> np.ndarray:
    prefixes = policy.header.region_prefixes
    if not prefixes:
        return np.full(frame.n, ts.MET, dtype=np.int8)
    return region_check(prefixes).evaluate(frame)


def evaluate_catalog(catalog: Catalog | list[Policy], profiles: pd.DataFrame | Mapping[str, np.ndarray], as_of: dt.date,
                     ref: ReferenceTables, *,
                     factorized: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> Eligibility:
    """Evaluate every policy for every firm of ``profiles`` (a typed profile frame, or its
    columns as :func:`recommender.profile.profile_arrays` makes them: no pandas round trip);
    ``factorized`` as for :class:`~recommender.facts.frame.EvalFrame`."""
    frame = (EvalFrame.from_profiles(profiles, as_of, ref, factorized=factorized)
             if isinstance(profiles, pd.DataFrame) else EvalFrame(profiles, as_of, ref, factorized=factorized))
    outcomes = {}
    for policy in catalog:
        nodes: dict[str, np.ndarray] = {}
        tree = policy.criteria.evaluate(frame, nodes)
        in_force = policy.in_force(as_of)
        region = _region_check(policy, frame)
        verdict = ts.all_of([tree, region], frame.n)
        if not in_force:
            verdict = np.full(frame.n, ts.NOT_MET, dtype=np.int8)
        outcomes[policy.id] = PolicyOutcome(policy, verdict, in_force, region, nodes)
    return Eligibility(frame, outcomes)


def benefit_matrix(elig: Eligibility) -> tuple[np.ndarray, np.ndarray]:
    """Estimated (low, high) yuan per (firm, policy); NaN where unknown or not estimable."""
    lows, highs = [], []
    for o in elig.outcomes.values():
        lo, hi = o.policy.estimate(elig.frame)
        lows.append(lo)
        highs.append(hi)
    return np.stack(lows, axis=1), np.stack(highs, axis=1)

def support_masks(outcome: PolicyOutcome, frame: EvalFrame) -> dict[str, np.ndarray]:
    """Per leaf path, the firms for which the leaf carries the policy's outcome: every child
    of an ``all`` (only the failing ones when it fails), the deciding route of an ``any`` (the
    first met child when it is met, else every child with its outcome). Whole frame at once,
    memoised: explaining a firm then reads one bit per leaf."""
    def compute() -> dict[str, np.ndarray]:
        nodes, out = outcome.nodes, {}

        def walk(node: Criterion, mask: np.ndarray) -> None:
            kids = node.children()
            if not kids:
                out[node.path] = mask
                return
            code = nodes[node.path]
            taken = np.zeros(frame.n, dtype=bool)
            for kid in kids:
                if node.kind == "any":
                    same = nodes[kid.path] == code
                    take = same & ~taken
                    taken |= same & (code == ts.MET)
                elif node.kind == "all":
                    take = (code != ts.NOT_MET) | (nodes[kid.path] == ts.NOT_MET)
                else:
                    take = np.ones(frame.n, dtype=bool)
                walk(kid, mask & take)

        walk(outcome.policy.criteria, np.ones(frame.n, dtype=bool))
        return out
    return frame.memo(("support", outcome.policy.id), compute)


def _required(leaf: Criterion, frame: EvalFrame, row: int) -> str:
    """Required text; the same for every row and frame on one ``as_of`` except tiered and
    score criteria (held by the leaf, per date)."""
    if leaf.kind in ("tiered", "score"):
        return leaf.required_text(frame, row)
    return held(leaf, ("required", frame.as_of), lambda: leaf.required_text(frame, row), limit=8)


def header_criteria(policy: Policy, in_force: bool, region: int, as_of: dt.date,
                    region_code: object) -> list[dict[str, Any]]:
    """The checks a policy header implies, as ``criteria`` entries: in force on ``as_of`` and,
    for a regional policy, registered in its region (``region``: that check's outcome code)."""
    validity, clause, prefixes = held(policy, "header_texts", lambda: _header_texts(policy))
    out: list[dict[str, Any]] = [{
        "id": IN_FORCE, "label": "政策在有效期内 / policy in force",
        "outcome": "met" if in_force else "not_met",
        "observed": as_of.isoformat(),
        "required": validity,
        "gap": None, "clause": clause,
    }]
    if policy.header.region_prefixes:
        out.append({
            "id": REGION, "label": "注册地在政策适用地区 / registered in the policy's region",
            "outcome": ts.OUTCOME_NAMES[region],
            "observed": region_code,
            "required": prefixes,
            "gap": None, "clause": clause,
        })
    return out


def _header_texts(policy: Policy) -> tuple[str, str, str]:
    h = policy.header
    return (f"{h.valid_from.isoformat()} .. {h.valid_to.isoformat() if h.valid_to else 'open'}",
            h.references[0].text(), "prefix in {" + ", ".join(h.region_prefixes) + "}")


def leaf_entry(leaf: Criterion, code: int, frame: EvalFrame, row: int) -> dict[str, Any]:
    """One leaf's ``criteria`` entry for one firm whose outcome code is ``code``."""
    return {
        "id": leaf.id,
        "label": leaf.label_text,
        "outcome": ts.OUTCOME_NAMES[code],
        "observed": leaf.observed(frame, row),
        "required": _required(leaf, frame, row),
        "gap": leaf.gap(frame, row) if code == ts.NOT_MET else None,
        "clause": leaf.clause,
        "kind": leaf.kind,
    }


def support_lists(support: list[tuple[Criterion, int]], frame: EvalFrame,
                  row: int) -> tuple[list[str], list[dict[str, Any]]]:
    """``(missing_fields, verify_yourself)`` of one firm from the leaves carrying a policy's
    outcome (``(leaf, outcome code)``, in leaf order)."""
    missing = sorted({src for leaf, code in support if code == ts.UNKNOWN
                      and not isinstance(leaf, Declaration)
                      for src in leaf.sources if frame.value(src, row) is None})
    verify = [{"id": leaf.id, "label": leaf.label_text, "clause": leaf.clause,
               "assumed": bool(code == ts.MET)}
              for leaf, code in support if isinstance(leaf, Declaration)]
    return missing, verify


def explain_row(outcome: PolicyOutcome, frame: EvalFrame, row: int) -> dict[str, Any]:
    """Per-criterion explanation of one firm for one policy (SPEC §5 ``criteria`` and more)."""
    policy, nodes = outcome.policy, outcome.nodes
    criteria = header_criteria(policy, outcome.in_force, int(outcome.region[row]), frame.as_of,
                               frame.value("region_code", row) if policy.header.region_prefixes else None)
    criteria += [leaf_entry(leaf, int(nodes[leaf.path][row]), frame, row) for leaf in outcome.leaves()]
    masks = support_masks(outcome, frame)
    support = [(leaf, int(nodes[leaf.path][row])) for leaf in outcome.leaves() if masks[leaf.path][row]]
    missing, verify = support_lists(support, frame, row)
    return {"criteria": criteria, "missing_fields": missing, "verify_yourself": verify}
