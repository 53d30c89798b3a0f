"""The pair table: one row per (firm, candidate policy), in the columns of ``features.columns``.

Built from an eligibility run (:class:`~recommender.eligibility.Eligibility`) and the benefit
estimate; it is the only thing :mod:`features` sees of the domain. By default only
*candidate* pairs (eligible or undetermined) are listed: ineligible pairs are never scored by
the learned model. Firm columns come from the evaluation frame (profile + derived facts),
pair columns from the outcome table (share of criteria met, relative margins to thresholds,
unknown count), policy columns from the catalog header. Policy ids only label rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features import columns as C
from recommender.criteria import Declaration
from recommender.eligibility import Eligibility, PolicyOutcome
from recommender.fields import CERT_COLUMNS, PROFILE_KINDS

MARGIN_CLIP = 10.0
"""Relative margins are clipped to ±10 (a firm 50× above a bar is not 50× "more" eligible)."""


def leaf_margins(outcome: PolicyOutcome, elig: Eligibility) -> list[tuple[object, np.ndarray]]:
    """``(leaf, clipped relative margin array)`` for every numeric leaf of a policy."""
    def compute() -> list[tuple[object, np.ndarray]]:
        out = []
        for leaf in outcome.leaves():
            if isinstance(leaf, Declaration):
                continue
            m = leaf.margin(elig.frame)
            if m is not None:
                out.append((leaf, np.clip(np.asarray(m, dtype="float64"), -MARGIN_CLIP, MARGIN_CLIP)))
        return out
    return elig.frame.memo(("leaf_margins", outcome.policy.id), compute)  # type: ignore[no-any-return]


def margin_summary(outcome: PolicyOutcome, elig: Eligibility) -> tuple[np.ndarray, ...]:
    """Per firm: (min, mean, max) clipped relative margin over the numeric leaves; NaN if none."""
    n = elig.frame.n
    margins = [m for _, m in leaf_margins(outcome, elig)]
    if not margins:
        nan = np.full(n, np.nan)
        return nan, nan, nan
    stacked = np.stack(margins)
    known = ~np.isnan(stacked)
    any_known = known.any(axis=0)
    with np.errstate(invalid="ignore"):
        lo = np.where(any_known, np.nanmin(np.where(known, stacked, np.inf), axis=0), np.nan)
        hi = np.where(any_known, np.nanmax(np.where(known, stacked, -np.inf), axis=0), np.nan)
        mean = np.where(any_known, np.nansum(np.where(known, stacked, 0.0), axis=0)
                        / np.maximum(known.sum(axis=0), 1), np.nan)
    return lo, mean, hi


def firm_table(elig: Eligibility) -> pd.DataFrame:
    """Firm-level columns (one row per firm of the frame) named in ``features.columns``."""
    df = elig.frame.df
    out = {C.FIRM_ID: df["firm_id"].to_numpy(dtype=object)}
    for name in C.FIRM_PROFILE_NUMERIC + C.FIRM_DERIVED_NUMERIC:
        out[name] = df[name].to_numpy(dtype="float64", na_value=np.nan)
    certs = np.stack([df[c].to_numpy(dtype="float64", na_value=np.nan) for c in CERT_COLUMNS.values()])
    out["n_certifications"] = certs[0] * 0 + np.nansum(certs, axis=0)   # NaN when list unknown
    profile = [f for f in PROFILE_KINDS if f != "firm_id"]
    out["n_unknown_fields"] = df[profile].isna().sum(axis=1).to_numpy(dtype="float64")
    out["industry_section"] = df["industry_code"].str[:1].to_numpy(dtype=object)
    for name in ("size_class", "ownership", "tax_credit_rating"):
        out[name] = df[name].to_numpy(dtype=object)
    out[C.BUSINESS_SCOPE] = df["business_scope"].to_numpy(dtype=object)
    return pd.DataFrame(out)


def build_pairs(elig: Eligibility, low: np.ndarray, high: np.ndarray, *,
                candidates_only: bool = True) -> pd.DataFrame:
    """The pair table of an eligibility run.

    Parameters
    ----------
    elig : Eligibility
    low, high : ndarray (n_firms, n_policies)
        Estimated benefit bounds in yuan (``matching.benefit_matrix``); NaN when unknown.
    candidates_only : bool, default True
        List only eligible and undetermined pairs.

    Returns
    -------
    DataFrame
        Sorted by firm row then policy column; ``row``/``col`` index the run's matrices.
    """
    verdict = elig.verdict_matrix()
    as_of = pd.Timestamp(elig.frame.as_of)
    parts = []
    for j, o in enumerate(elig.outcomes.values()):
        rows = np.flatnonzero(verdict[:, j] >= 1) if candidates_only else np.arange(elig.frame.n)
        if len(rows) == 0:
            continue
        h = o.policy.header
        lo, mean, hi = margin_summary(o, elig)
        n_leaves = sum(1 for c in o.leaves() if not isinstance(c, Declaration))
        valid_to = np.nan if h.valid_to is None else float((pd.Timestamp(h.valid_to) - as_of).days)
        parts.append(pd.DataFrame({
            C.ROW: rows, C.COL: np.full(len(rows), j),
            C.POLICY_ID: np.full(len(rows), o.policy.id, dtype=object),
            C.VERDICT: verdict[rows, j].astype("float64"),
            C.SHARE_MET: o.share_met()[rows],
            "unknown_count": o.unknown_count()[rows].astype("float64"),
            "n_criteria": np.full(len(rows), float(n_leaves)),
            "margin_min": lo[rows], "margin_mean": mean[rows], "margin_max": hi[rows],
            "benefit_low": low[rows, j], "benefit_high": high[rows, j],
            C.BENEFIT: (low[rows, j] + high[rows, j]) / 2.0,
            "days_to_end": np.full(len(rows), valid_to),
            "benefit_years": np.full(len(rows), float(h.benefit.years)),
            "policy_regional": np.full(len(rows), float(bool(h.region_prefixes))),
            C.POLICY_FAMILY: np.full(len(rows), h.family, dtype=object),
            "issuer_level": np.full(len(rows), h.issuer.level, dtype=object),
            "benefit_kind": np.full(len(rows), h.benefit.kind, dtype=object),
            C.POLICY_TEXT: np.full(len(rows), f"{h.title_zh} {h.description_zh}".strip(), dtype=object),
        }))
    firms = firm_table(elig)
    if not parts:
        empty = pd.DataFrame(columns=[C.ROW, C.COL, C.POLICY_ID])
        return empty.join(firms.iloc[:0], how="left")
    pairs = pd.concat(parts, ignore_index=True).sort_values([C.ROW, C.COL], kind="stable")
    pairs = pairs.reset_index(drop=True)
    firm_part = firms.iloc[pairs[C.ROW].to_numpy()].reset_index(drop=True)
    return pd.concat([firm_part, pairs], axis=1)
