"""Relations between policies: titles held, ladders, prerequisites and mutual exclusion.

Declared in each policy file under ``relations`` (see :class:`recommender.rules.catalog.Relations`):

* ``grants: CERT`` — the title a successful application grants (``cn-srdi-sme`` grants
  ``srdi_sme``). A firm that already holds it is not told to apply again: the policy is
  ``held``, left out of the default result list and of the total, and the firm is shown the
  next rung instead (and a renewal reminder: SPEC has no issue or expiry date, so the reminder
  states the title's validity and asks the firm to check its certificate).
* ``requires: [POLICY]`` — prerequisites (their titles must be held first).
* ``next_rung_of: POLICY`` — the rung below on a ladder (创新型 → 专精特新 → 小巨人).
* ``excludes: [{policy, reason_zh, reason_en, clause}]`` — policies that do not stack (the
  HNTE 15 % rate and the small low-profit rate, 国发〔2007〕39号). Exclusion is symmetric:
  among a firm's eligible policies of one exclusion group the better one (higher estimated
  benefit; unknown counts lowest) is kept and the others are marked ``not_stacked`` and
  dropped from the total.

Everything is computed on ``(n_firms, n_policies)`` arrays, so it costs nothing per firm.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from recommender import tristate as ts
from recommender.rules import Exclusion, Policy
from recommender.engine.eligibility import VERDICTS
from recommender.facts import EvalFrame
from recommender.held import held


@dataclass(frozen=True)
class RelationView:
    """Relation facts per (firm, policy); columns in ``policies`` order."""

    policies: list[Policy]
    held: np.ndarray          # bool: the firm holds the title the policy grants
    kept_instead: np.ndarray  # int: column of the policy kept in its place (−1: not excluded)
    counted: np.ndarray       # bool: eligible, not held, not excluded → part of the total
    pairs: dict[tuple[int, int], Exclusion]
    live: np.ndarray          # bool per policy: in force on the frame's as_of

    def column(self, policy_id: str) -> int | None:
        return next((i for i, p in enumerate(self.policies) if p.id == policy_id), None)


def _exclusion_pairs(policies: tuple[Policy, ...]) -> dict[tuple[int, int], Exclusion]:
    """Symmetric ``(i, j) → Exclusion`` between columns (the declaring side's reason); held
    per policy list by its first policy (read-only)."""
    if not policies:
        return {}
    return held(policies[0], ("exclusion_pairs", policies), lambda: _pairs_of(policies), limit=16)


def _pairs_of(policies: tuple[Policy, ...]) -> dict[tuple[int, int], Exclusion]:
    col = {p.id: i for i, p in enumerate(policies)}
    pairs: dict[tuple[int, int], Exclusion] = {}
    for i, p in enumerate(policies):
        for ex in p.header.relations.excludes:
            j = col.get(ex.policy)
            if j is not None:
                pairs.setdefault((i, j), ex)
                pairs.setdefault((j, i), ex)
    return pairs


def held_matrix(policies: list[Policy], frame: EvalFrame) -> np.ndarray:
    """``(n, p)`` bool: the firm holds the title each policy grants (unknown list → False)."""
    held = np.zeros((frame.n, len(policies)), dtype=bool)
    for j, p in enumerate(policies):
        cert = p.header.relations.grants
        if cert is not None:
            held[:, j] = frame.num(f"cert_{cert}") == 1.0
    return held


def relation_view(policies: list[Policy], frame: EvalFrame, verdicts: np.ndarray,
                  benefit: np.ndarray, held: np.ndarray | None = None) -> RelationView:
    """Held titles, exclusions and the counted set for every firm.

    Parameters
    ----------
    policies : list of Policy
        Columns of ``verdicts`` and ``benefit``.
    frame : EvalFrame
        The evaluated firms (for the ``cert_*`` columns).
    verdicts : ndarray of int8, shape (n_firms, n_policies)
        Verdict codes (2 eligible).
    benefit : ndarray of float, shape (n_firms, n_policies)
        Point estimate in yuan; NaN when unknown.
    held : ndarray of bool, shape (n_firms, n_policies), optional
        :func:`held_matrix`, when the caller has it already.
    """
    if held is None:
        held = held_matrix(policies, frame)
    active = (verdicts == ts.MET) & ~held
    kept = np.full(verdicts.shape, -1, dtype=np.int64)
    pairs = _exclusion_pairs(tuple(policies))
    if pairs:
        value = np.where(np.isnan(benefit), -np.inf, benefit)
        cols = sorted({i for i, _ in pairs})
        rows = np.flatnonzero(active[:, cols].sum(axis=1) >= 2)
        for r in rows:
            # Best first; ties keep catalog (id) order. Greedy: keep a policy unless it
            # excludes one already kept.
            order = sorted((c for c in cols if active[r, c]), key=lambda c: (-value[r, c], c))
            chosen: list[int] = []
            for c in order:
                winner = next((k for k in chosen if (c, k) in pairs), None)
                if winner is None:
                    chosen.append(c)
                else:
                    kept[r, c] = winner
    counted = active & (kept < 0)
    live = np.array([p.in_force(frame.as_of) for p in policies], dtype=bool)
    return RelationView(policies, held, kept, counted, pairs, live)


def totals(view: RelationView, benefit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Total and per-year estimated yuan per firm over the counted policies (unknown skipped)."""
    years = _years(tuple(view.policies))
    known = view.counted & ~np.isnan(benefit)
    total = np.where(known, benefit, 0.0).sum(axis=1)
    per_year = np.where(known, benefit / years, 0.0).sum(axis=1)
    return np.round(total, 2), np.round(per_year, 2)


def _years(policies: tuple[Policy, ...]) -> np.ndarray:
    if not policies:
        return np.zeros(0)
    return held(policies[0], ("years", policies), lambda: _years_of(policies), limit=16)


def _years_of(policies: tuple[Policy, ...]) -> np.ndarray:
    out = np.array([p.header.benefit.years for p in policies], dtype="float64")
    out.flags.writeable = False
    return out


def total_breakdown(view: RelationView, verdicts: np.ndarray, benefit: np.ndarray,
                    row: int) -> dict[str, list[str]]:
    """Which eligible policies the total counts, and why the others are left out."""
    ids = [p.id for p in view.policies]
    eligible = verdicts[row] == ts.MET
    return {
        "counted": [ids[c] for c in np.flatnonzero(view.counted[row] & ~np.isnan(benefit[row]))],
        "value_unknown": [ids[c] for c in np.flatnonzero(view.counted[row] & np.isnan(benefit[row]))],
        "not_stacked": [ids[c] for c in np.flatnonzero(eligible & (view.kept_instead[row] >= 0))],
        "title_held": [ids[c] for c in np.flatnonzero(eligible & view.held[row])],
    }


def _renewal(policy: Policy) -> dict[str, str]:
    years = policy.header.relations.title_valid_years
    span_en = f"valid {years} years from the certificate date" if years else "valid for a limited period"
    span_zh = f"自证书日期起有效{years}年" if years else "有一定有效期"
    return {
        "en": f"Title {span_en}; the profile has no issue date, so check the certificate and "
              f"re-apply under {policy.id} before it expires.",
        "zh": f"该称号{span_zh}；画像中没有发证日期，请核对证书，到期前按 {policy.id} 重新申请。",
    }


def match_relations(view: RelationView, row: int, col: int) -> dict[str, Any] | None:
    """The ``relations`` block of one match, or None when the policy has no relation."""
    policy = view.policies[col]
    rel = policy.header.relations
    out: dict[str, Any] = {}
    if rel.grants is not None:
        out["grants"] = rel.grants
        out["title_held"] = bool(view.held[row, col])
        if view.held[row, col]:
            out["renewal"] = _renewal(policy)
    if rel.requires:
        out["requires"] = [_prerequisite(view, row, pid) for pid in rel.requires]
    if rel.next_rung_of is not None:
        out["next_rung_of"] = rel.next_rung_of
    pairs = view.pairs
    others = sorted({view.policies[j].id for (i, j) in pairs if i == col})
    if others:
        out["does_not_stack_with"] = others
    kept = int(view.kept_instead[row, col])
    if kept >= 0:
        ex = pairs[(col, kept)]
        out["not_stacked"] = {"kept": view.policies[kept].id, "reason": f"{ex.reason_zh} / {ex.reason_en}",
                              "clause": ex.clause}
    return out or None


def _prerequisite(view: RelationView, row: int, policy_id: str) -> dict[str, Any]:
    col = view.column(policy_id)
    cert = view.policies[col].header.relations.grants if col is not None else None
    return {"policy_id": policy_id, "title": cert,
            "held": None if col is None else bool(view.held[row, col])}


def held_titles(view: RelationView, verdicts: np.ndarray, row: int) -> list[dict[str, Any]]:
    """Titles the firm holds, each with its renewal reminder and the next rung(s) up.

    A title granted by several versions of a measure (专精特新 under 63号 and under the 2026
    办法) is listed once, under the version in force on the frame's date (else the first)."""
    out = []
    for col in _title_grantors(view, np.flatnonzero(view.held[row])):
        policy = view.policies[col]
        rungs = [{"policy_id": p.id, "verdict": VERDICTS[int(verdicts[row, j])],
                  "title_held": bool(view.held[row, j])}
                 for j, p in enumerate(view.policies) if p.header.relations.next_rung_of == policy.id]
        out.append({"title": policy.header.relations.grants, "policy_id": policy.id,
                    "renewal": _renewal(policy), "next_rungs": rungs})
    return out


def _title_grantors(view: RelationView, cols: np.ndarray) -> list[int]:
    """One column per title among ``cols``: the first in force, else the first."""
    best: dict[str, int] = {}
    for col in (int(c) for c in cols):
        cert = view.policies[col].header.relations.grants
        if cert is None:
            continue
        if cert not in best or (view.live[col] and not view.live[best[cert]]):
            best[cert] = col
    return sorted(best.values())


def grantor_of(policies: list[Policy], as_of: dt.date | None = None) -> dict[str, str]:
    """``certification → policy id`` granting it (for "obtain title X via policy Y"): the
    first policy in force on ``as_of`` when one is, else the first in catalog order."""
    out: dict[str, str] = {}
    for p in policies:
        cert = p.header.relations.grants
        if cert is None:
            continue
        if cert not in out or (as_of is not None and p.in_force(as_of)
                               and not _in_force(policies, out[cert], as_of)):
            out[cert] = p.id
    return out


def _in_force(policies: list[Policy], policy_id: str, as_of: dt.date) -> bool:
    return next(p for p in policies if p.id == policy_id).in_force(as_of)
