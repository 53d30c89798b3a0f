"""The pair builder: one row per (firm, candidate policy), in the columns of ``features.columns``.

One module builds pair features for both paths: :func:`pair_table` for an eligibility run of
any number of firms (firm columns by :func:`firm_columns`, policy columns by
:func:`policy_columns`, pair columns by :func:`pair_columns`), and the one-firm serving path
(:mod:`recommender.matching.one_firm`) through :func:`firm_row`, :func:`policy_columns_of`
and :func:`pair_columns` on the compiled plan's scalars (tests hold the two equal).

Built from an eligibility run (:class:`~recommender.engine.eligibility.Eligibility`) and the benefit
estimate; it is the only thing :mod:`features` sees of the domain. By default only
*candidate* pairs (eligible or undetermined) are listed: ineligible pairs are never scored by
the learned model. Firm columns come from the evaluation frame (profile + derived facts),
pair columns from the outcome table (share of criteria met, relative margins to thresholds,
unknown count), policy columns from the catalog header. Policy ids only label rows.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features import columns as C
from features.history import PolicySpan
from features.pair_table import PairTable
from recommender.rules import Criterion, Declaration, Policy
from recommender.engine import MARGIN_CLIP, Eligibility, PolicyOutcome
from recommender.facts import CERT_COLUMNS, EvalFrame
from recommender.profile import PROFILE_KINDS
from recommender.held import held


def leaf_margins(outcome: PolicyOutcome, elig: Eligibility) -> list[tuple[Criterion, np.ndarray]]:
    """``(leaf, clipped relative margin array)`` for every numeric leaf of a policy."""
    def compute() -> list[tuple[Criterion, np.ndarray]]:
        out: list[tuple[Criterion, np.ndarray]] = []
        for leaf in outcome.leaves():
            if isinstance(leaf, Declaration):
                continue
            m = leaf.margin(elig.frame)
            if m is not None:
                out.append((leaf, np.clip(np.asarray(m, dtype="float64"), -MARGIN_CLIP, MARGIN_CLIP)))
        return out
    return elig.frame.memo(("leaf_margins", outcome.policy.id), compute)


def margin_summary(outcome: PolicyOutcome, elig: Eligibility) -> tuple[np.ndarray, ...]:
    """Per firm: (min, mean, max) clipped relative margin over the numeric leaves; NaN if none."""
    n = elig.frame.n
    margins = [m for _, m in leaf_margins(outcome, elig)]
    if not margins:
        nan = np.full(n, np.nan)
        return nan, nan, nan
    if len(margins) == 1:
        return margins[0], margins[0], margins[0]
    stacked = np.stack(margins)
    # fmin/fmax skip NaN (NaN only where every leaf is unknown); no (leaves × firms) copies
    lo, hi = np.fmin.reduce(stacked, axis=0), np.fmax.reduce(stacked, axis=0)
    known = (~np.isnan(stacked)).sum(axis=0)
    total = np.nansum(stacked, axis=0)
    mean = np.full(n, np.nan)
    np.divide(total, known, out=mean, where=known > 0)
    return lo, mean, hi


def _objects(frame: EvalFrame, name: str) -> np.ndarray:
    """A text column as an object array (None where unknown), from the frame's factorisation."""
    codes, uniques = frame.factorized(name)
    return np.append(np.asarray(uniques, dtype=object), np.array([None], dtype=object))[codes]


def _unknown(frame: EvalFrame, name: str) -> np.ndarray:
    kind = PROFILE_KINDS[name]
    if kind in ("number", "bool"):
        return np.isnan(frame.num(name))
    if kind == "date":
        return np.isnan(frame.days(name))
    return frame.factorized(name)[0] < 0


def firm_columns(elig: Eligibility) -> dict[str, np.ndarray]:
    """Firm-level columns (one value per firm of the frame) named in ``features.columns``,
    read through the evaluation frame's cached arrays (never its assembled DataFrame)."""
    frame = elig.frame
    out: dict[str, np.ndarray] = {C.FIRM_ID: _objects(frame, "firm_id")}
    for name in C.FIRM_PROFILE_NUMERIC + C.FIRM_DERIVED_NUMERIC:
        out[name] = frame.num(name)
    certs = np.stack([frame.num(c) for c in CERT_COLUMNS.values()])
    out[C.N_CERTIFICATIONS] = certs[0] * 0 + np.nansum(certs, axis=0)   # NaN when list unknown
    out[C.N_UNKNOWN_FIELDS] = sum((_unknown(frame, f) for f in PROFILE_KINDS if f != "firm_id"),
                                  np.zeros(frame.n)).astype("float64")
    codes, uniques = frame.factorized("industry_code")     # each distinct code cut once
    section = [str(c)[:1] for c in uniques]
    # GB/T 4754 division (section letter + 2 digits, e.g. C36); unknown for a section-only code
    division = [str(c)[:3] if len(str(c)) >= 3 else None for c in uniques]
    out[C.INDUSTRY_SECTION] = np.array([*section, None], dtype=object)[codes]
    out[C.INDUSTRY_DIVISION] = np.array([*division, None], dtype=object)[codes]
    for name in C.FIRM_PROFILE_CATEGORICAL:
        out[name] = _objects(frame, name)
    out[C.BUSINESS_SCOPE] = _objects(frame, "business_scope")
    return out


def firm_row(frame: EvalFrame, row: int) -> dict[str, object]:
    """:func:`firm_columns` of one firm as Python values (floats, NaN unknown; text or None),
    read cell by cell (the one-firm path; a test holds the two equal)."""
    value = frame.value
    out: dict[str, object] = {C.FIRM_ID: value("firm_id", row)}
    for name in C.FIRM_PROFILE_NUMERIC + C.FIRM_DERIVED_NUMERIC:
        v = value(name, row)
        out[name] = np.nan if v is None else float(v)  # type: ignore[arg-type]  # numeric profile cells are numbers when not None
    flags = [value(c, row) for c in CERT_COLUMNS.values()]
    out[C.N_CERTIFICATIONS] = np.nan if flags[0] is None else float(sum(1 for f in flags if f == 1.0))
    out[C.N_UNKNOWN_FIELDS] = float(sum(1 for f in PROFILE_KINDS if f != "firm_id" and value(f, row) is None))
    code = value("industry_code", row)
    out[C.INDUSTRY_SECTION] = code[:1] if isinstance(code, str) else None
    out[C.INDUSTRY_DIVISION] = code[:3] if isinstance(code, str) and len(code) >= 3 else None
    for name in C.FIRM_PROFILE_CATEGORICAL:
        out[name] = value(name, row)
    out[C.BUSINESS_SCOPE] = value("business_scope", row)
    return out


def policy_spans(policies: tuple[Policy, ...]) -> dict[str, PolicySpan]:
    """Family and validity of each policy, as the history features read them."""
    return {p.id: PolicySpan(p.header.family, p.header.valid_from, p.header.valid_to) for p in policies}


def policy_columns(elig: Eligibility) -> dict[str, np.ndarray]:
    """Policy-level columns (one value per policy of the run) from the catalog header."""
    return policy_columns_of(tuple(o.policy for o in elig.outcomes.values()), elig.frame.as_of)


def policy_columns_of(policies: tuple[Policy, ...], day: dt.date) -> dict[str, np.ndarray]:
    """:func:`policy_columns` of these policies on ``day`` (read-only arrays, held by the
    first policy: freed with the catalog)."""
    if not policies:
        return _policy_columns(policies, day)
    return held(policies[0], ("policy_columns", policies, day), lambda: _policy_columns(policies, day), limit=16)


def _policy_columns(policies: tuple[Policy, ...], day: dt.date) -> dict[str, np.ndarray]:
    as_of = pd.Timestamp(day)
    heads = [p.header for p in policies]
    def obj(values: list[object]) -> np.ndarray:
        return np.array(values, dtype=object)
    columns = {
        C.POLICY_ID: obj([p.id for p in policies]),
        C.N_CRITERIA: np.array([float(sum(1 for c in p.leaves if not isinstance(c, Declaration)))
                                for p in policies]),
        C.DAYS_TO_END: np.array([np.nan if h.valid_to is None else float((pd.Timestamp(h.valid_to) - as_of).days)
                                 for h in heads]),
        C.BENEFIT_YEARS: np.array([float(h.benefit.years) for h in heads]),
        C.POLICY_REGIONAL: np.array([float(bool(h.region_prefixes)) for h in heads]),
        C.POLICY_FAMILY: obj([h.family for h in heads]),
        C.ISSUER_LEVEL: obj([h.issuer.level for h in heads]),
        C.BENEFIT_KIND: obj([h.benefit.kind for h in heads]),
        C.POLICY_TEXT: obj([f"{h.title_zh} {h.description_zh}".strip() for h in heads]),
    }
    for values in columns.values():
        values.flags.writeable = False         # cached and shared between calls
    return columns


def pair_columns(verdict: np.ndarray, share_met: np.ndarray, unknown_count: np.ndarray,
                 margins: tuple[np.ndarray, np.ndarray, np.ndarray], low: np.ndarray,
                 high: np.ndarray) -> dict[str, np.ndarray]:
    """The pair-level columns (:data:`features.columns.PAIR_BUILT`), one value per pair, from
    the pairs' verdicts, outcome counts, margin summaries and benefit bounds: the one place
    both :func:`pair_table` (many firms) and the one-firm path name and derive them."""
    columns = {C.VERDICT: np.asarray(verdict).astype("float64"), C.SHARE_MET: share_met,
               C.UNKNOWN_COUNT: unknown_count, C.BENEFIT_LOW: low, C.BENEFIT_HIGH: high,
               C.BENEFIT: (low + high) / 2.0}
    columns.update(zip(C.MARGINS, margins, strict=True))
    return {name: columns[name] for name in C.PAIR_BUILT}


def pair_table(elig: Eligibility, low: np.ndarray, high: np.ndarray, *,
               candidates_only: bool = True) -> PairTable:
    """The pair table of an eligibility run, each column at its level (firm, policy, pair).

    Parameters
    ----------
    elig : Eligibility
    low, high : ndarray (n_firms, n_policies)
        Estimated benefit bounds in yuan (``matching.benefit_matrix``); NaN when unknown.
    candidates_only : bool, default True
        List only eligible and undetermined pairs.

    Returns
    -------
    PairTable
        Pairs sorted by firm row then policy column; ``rows``/``cols`` index the run's matrices.
    """
    verdict = elig.verdict_matrix()
    n, n_pol = verdict.shape
    keep = verdict >= 1 if candidates_only else np.ones(verdict.shape, dtype=bool)
    rows, cols = np.nonzero(keep)                      # row-major: by firm, then policy
    # Per-policy arrays are laid out policy-major (one contiguous row per policy), then every
    # column is gathered for the candidate pairs at once: no sort, no scattered writes.
    names = (C.SHARE_MET, C.UNKNOWN_COUNT, *C.MARGINS)
    by_policy = {name: np.empty((n_pol, n)) for name in names}
    for j, o in enumerate(elig.outcomes.values()):
        if not keep[:, j].any():
            continue                           # no candidate pair reads this policy's row
        by_policy[C.SHARE_MET][j] = o.share_met()
        by_policy[C.UNKNOWN_COUNT][j] = o.unknown_count()
        for name, values in zip(C.MARGINS, margin_summary(o, elig), strict=True):
            by_policy[name][j] = values
    at_policy = cols * n + rows                        # flat positions: 1-d takes are the fastest gather
    at_firm = rows * n_pol + cols
    got = {name: np.take(by_policy[name], at_policy) for name in names}
    pair = pair_columns(np.take(verdict, at_firm), got[C.SHARE_MET], got[C.UNKNOWN_COUNT],
                        (got[C.MARGIN_MIN], got[C.MARGIN_MEAN], got[C.MARGIN_MAX]),
                        np.take(low, at_firm), np.take(high, at_firm))
    firms = firm_columns(elig)
    order = [*firms, C.ROW, C.COL, C.POLICY_ID, *C.PAIR_TABLE_ORDER]
    return PairTable(firms=firms, policies=policy_columns(elig), pairs=pair, rows=rows, cols=cols, order=order)


def build_pairs(elig: Eligibility, low: np.ndarray, high: np.ndarray, *,
                candidates_only: bool = True) -> pd.DataFrame:
    """:func:`pair_table` as one flat DataFrame (one row per pair, every column expanded)."""
    return pair_table(elig, low, high, candidates_only=candidates_only).to_frame()
