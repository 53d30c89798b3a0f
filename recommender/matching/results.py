"""Matching: profiles → eligibility → benefit → ranking → SPEC §5 results.

A single firm is a batch of one: :func:`match_frame` serves the CLI, the API and bulk runs.
The ranker is pluggable (:class:`Ranker`): the rule order ``rules-v1`` by default, the learned
LambdaRank model when one is loaded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from recommender.rules import Catalog, Policy, window_table
from recommender.engine import (Eligibility, VERDICTS, benefit_matrix, evaluate_catalog, explain_row,
                                held_titles, match_relations, relation_view, total_breakdown, totals)
from recommender.advice import explain_firm
from recommender.facts import DERIVED_KINDS
from recommender.held import held
from recommender.ranking import RuleRanker, Scores
from recommender.profile import ReferenceTables


class Ranker(Protocol):
    """What matching needs from a ranker."""

    version: str

    def score(self, elig: Eligibility, benefit: np.ndarray) -> Scores: ...

    def order(self, elig: Eligibility, scores: Scores, benefit: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class MatchOptions:
    """How many and which policies to return, and how much to explain."""

    top_k: int | None = 10
    include_all: bool = False
    explain: bool = False
    family: str | None = None
    detail: bool = True          # per-criterion explanations (off for bulk output)


def _clean(v: Any) -> Any:
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, np.generic):
        return _clean(v.item())
    return v


def derived_facts(elig: Eligibility, row: int) -> dict[str, Any]:
    """SPEC §3 derived facts of one firm (``null`` when unknown)."""
    return _derived_rows(elig)[row]


def _derived_rows(elig: Eligibility) -> list[dict[str, Any]]:
    """Derived facts of every firm, read column-wise once (cell access per row is slow)."""
    def compute() -> list[dict[str, Any]]:
        cols = {}
        frame = elig.frame
        for name, kind in DERIVED_KINDS.items():
            values = [frame.value(name, i) for i in range(frame.n)]       # None when unknown
            cols[name] = [None if v is None else (bool(v) if kind == "bool" else _clean(v)) for v in values]
        return [{name: cols[name][i] for name in DERIVED_KINDS} for i in range(elig.frame.n)]

    return elig.frame.memo(("matching", "derived"), compute)


def _formula_text(policy: Policy, as_of: dt.date) -> str | None:
    formula = policy.benefit_formula
    return held(policy, ("formula_text", as_of), lambda: formula.text(as_of), limit=8) if formula else None


def _benefit_block(policy: Policy, low: float, high: float, as_of: dt.date) -> dict[str, Any]:
    b = policy.header.benefit
    mid = None if np.isnan(low) else (low + high) / 2
    return {
        "kind": b.kind,
        "low": _clean(low), "high": _clean(high),
        "years": b.years,
        "per_year": None if mid is None else round(float(mid) / b.years, 2),
        "formula": _formula_text(policy, as_of),
        "description": f"{b.description_zh} / {b.description_en}",
        "clause": b.clause,
        "uncertain": b.uncertain,
    }


def _shown(order: np.ndarray, verdicts: np.ndarray, held: np.ndarray, options: MatchOptions) -> list[int]:
    """Policy columns one firm's result lists, best first: without ``include_all``, neither
    ineligible policies nor titles the firm holds; at most ``top_k``."""
    out: list[int] = []
    for col in order:
        if not options.include_all and (VERDICTS[int(verdicts[col])] == "ineligible" or held[col]):
            continue
        if options.top_k is not None and len(out) >= options.top_k:
            break
        out.append(int(col))
    return out


def match_frame(profiles: pd.DataFrame | Mapping[str, np.ndarray], catalog: Catalog, as_of: dt.date, ref: ReferenceTables,
                options: MatchOptions = MatchOptions(), ranker: Ranker | None = None) -> list[dict[str, Any]]:
    """Match every firm of a typed profile frame (or its columns, as :func:`~recommender.engine.evaluate_catalog`
    takes them); one SPEC §5 result per firm, in input order.

    Policies whose title the firm already holds (``relations.grants``) are left out unless
    ``include_all``; the total counts eligible policies once, dropping the worse of two that
    do not stack (:mod:`recommender.engine.relations`). With ``options.explain`` each result also
    carries what it takes, near misses, pathways and the next questions
    (:func:`recommender.advice.explain.explain_firm`).
    """
    ranker = ranker or RuleRanker()
    policies = [p for p in catalog if options.family is None or p.header.family == options.family]
    elig = evaluate_catalog(policies, profiles, as_of, ref)
    low, high = benefit_matrix(elig)
    point = np.where(np.isnan(low), np.nan, (low + high) / 2)
    scores = ranker.score(elig, point)
    orders = ranker.order(elig, scores, point)
    verdicts = elig.verdict_matrix()
    outcomes = list(elig.outcomes.values())
    windows = window_table(policies, as_of)
    view = relation_view(policies, elig.frame, verdicts, point)
    total, total_per_year = totals(view, point)
    firm_ids = [elig.frame.value("firm_id", i) for i in range(elig.frame.n)]
    shown = [_shown(orders[row], verdicts[row], view.held[row], options) for row in range(elig.frame.n)]
    shown_rows = np.repeat(np.arange(elig.frame.n), [len(cols) for cols in shown])
    shown_cols = np.asarray([c for cols in shown for c in cols], dtype=np.int64)
    probs = scores.probability_at(shown_rows, shown_cols)
    next_prob = iter([] if probs is None else probs.tolist()).__next__   # in shown order
    explain_pairs = getattr(ranker, "explain_pairs", None) if options.explain else None
    next_reasons = iter(explain_pairs(elig, shown_rows, shown_cols) if explain_pairs else []).__next__
    results = []
    for row in range(elig.frame.n):
        matches: list[dict[str, Any]] = []
        for col in shown[row]:
            o = outcomes[col]
            prob = None if probs is None else float(next_prob())
            matches.append(match_entry(
                o.policy, len(matches) + 1, int(verdicts[row, col]), float(scores.score[row, col]),
                low[row, col], high[row, col], point[row, col], prob, as_of, windows[o.policy.id],
                match_relations(view, row, col), explain_row(o, elig.frame, row) if options.detail else None,
                reasons=next_reasons() if explain_pairs is not None else None))
        result = result_entry(firm_ids[row], as_of, catalog.version, ranker.version, derived_facts(elig, row),
                              total[row], total_per_year[row], matches)
        if options.detail and view.held[row].any():
            result["held_titles"] = held_titles(view, verdicts, row)
        if options.explain:
            result["total_breakdown"] = total_breakdown(view, verdicts, point, row)
            result.update(explain_firm(elig, elig.frame.profiles, row, matches, view, point, ref,
                                       top_k=options.top_k or 10))
        results.append(result)
    return results


def match_entry(policy: Policy, rank: int, verdict: int, score: float, low: float, high: float, point: float,
                probability: float | None, as_of: dt.date, window: dict[str, Any], relations: dict[str, Any] | None,
                detail: dict[str, Any] | None, *, reasons: list[str] | None = None) -> dict[str, Any]:
    """One entry of a result's ``matches`` (SPEC §5), keys in their documented order.

    ``point`` is the estimated benefit (NaN unknown), ``probability`` the calibrated approval
    probability (None without a model), ``detail`` the per-criterion explanation
    (:func:`recommender.engine.eligibility.explain_row`) or None, ``reasons`` the rank reasons."""
    m: dict[str, Any] = {
        "policy_id": policy.id,
        "title": f"{policy.header.title_zh} / {policy.header.title_en}",
        "family": policy.header.family,
        "rank": rank,
        "verdict": VERDICTS[verdict],
        "score": round(score, 6),
        "estimated_benefit": _clean(point),
    }
    if probability is not None:
        m["approval_probability"] = round(probability, 6)
        m["expected_value"] = None if np.isnan(point) else round(probability * float(point), 2)
    if reasons is not None:
        m["rank_reasons"] = reasons
    m["benefit"] = _benefit_block(policy, low, high, as_of)
    m["application_window"] = dict(window)
    if relations is not None:
        m["relations"] = relations
    if detail is not None:
        m.update(detail)
    m["references"] = policy.references_text()
    return m


def result_entry(firm_id: object, as_of: dt.date, catalog_version: str, model_version: str,
                 derived: dict[str, Any], total: float, total_per_year: float,
                 matches: list[dict[str, Any]]) -> dict[str, Any]:
    """A SPEC §5 result without its optional blocks (held titles, explanations)."""
    return {
        "firm_id": firm_id,
        "as_of": as_of.isoformat(),
        "catalog_version": catalog_version,
        "model_version": model_version,
        "derived": derived,
        "total_estimated_benefit": float(total),
        "total_estimated_benefit_per_year": float(total_per_year),
        "matches": matches,
    }
