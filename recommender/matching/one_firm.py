"""Matching one firm, fast: the serving path of ``POST /v1/match``.

:func:`recommender.matching.results.match_frame` serves any number of firms; for one firm most of its
time goes to work that does not depend on the firm (parsing thresholds, encoding policy
features, vectorising policy texts) and to numpy calls on arrays of one element.
:class:`OneFirmMatcher` does the firm-independent work once, when the matcher loads (per
``as_of``, a few dates kept), so a request pays only for its firm:

1. its profile as a one-row frame (:class:`~recommender.facts.rowframe.RowFrame`, no pandas);
2. every policy's outcomes from the compiled plan (:mod:`recommender.engine.plan`);
3. benefit formulas (constant estimates are prepared), the relations, the order;
4. with a learned model, the candidate pairs' features (:meth:`features.encoder.PairEncoder.transform_firm`,
   policy blocks prepared once) scored by the compiled trees;
5. the result, assembled by the same builders as ``match_frame``
   (:func:`~recommender.matching.results.match_entry`, :func:`~recommender.matching.results.result_entry`).

The result equals ``match_frame`` for the same firm and options (tests compare the JSON).
:meth:`OneFirmMatcher.supports` says which requests take this path: not ``explain`` (what it
takes, pathways and rank reasons run the full engine) and not ``detail=False`` (bulk
output); a ranker other than the rule order and :class:`~recommender.ranking.learned.LearnedRanker`,
or a model whose features this path cannot build (a pair feature it does not know), also
falls back. Everything else — ``top_k``, ``all``, ``family``, ``rank_by``, any ``as_of`` —
is served here.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from features import columns as C
from recommender.rules import Catalog, Policy, window_table
from recommender.engine import Eligibility, held_titles, match_relations, relation_view, totals
from recommender.matching.results import MatchOptions, Ranker, _shown, derived_facts, match_entry, result_entry
from recommender.ranking import RuleRanker, Scores, firm_row, pair_columns, policy_columns_of
from recommender.profile import FirmProfile, ReferenceTables
from recommender.engine.plan import DatedPlan, EligibilityPlan, PerDate, RowEligibility
from recommender.facts import RowFrame

if TYPE_CHECKING:
    from features.encoder import PreparedPolicies

log = logging.getLogger(__name__)

_SAMPLE = {"firm_id": "sample", "region_code": "110101", "industry_code": "C3670"}
"""A profile used at start-up to learn the firm-level column names (never matched)."""


class _Dated:
    """Everything of a policy set that depends on ``as_of`` but not on the firm."""

    def __init__(self, policies: list[Policy], plan: EligibilityPlan, as_of: dt.date, ref: ReferenceTables,
                 ranker: Any) -> None:
        self.plan: DatedPlan = plan.dated(as_of)
        self.windows = window_table(policies, as_of)
        n = len(policies)
        self.low = np.full((1, n), np.nan)
        self.high = np.full((1, n), np.nan)
        self.formulas: list[int] = []
        for j, p in enumerate(policies):
            b = p.header.benefit
            if p.benefit_formula is not None:
                self.formulas.append(j)
            elif b.range is not None:
                self.low[0, j], self.high[0, j] = b.range[0] * b.years, b.range[1] * b.years
        self.features: PreparedPolicies | None = None
        if ranker is not None:
            columns = dict(policy_columns_of(tuple(policies), as_of))
            columns.update(ranker.policy_history(columns[C.POLICY_ID], columns[C.POLICY_FAMILY]))
            sample = FirmProfile.model_validate(_SAMPLE, context={"ref": ref})
            firm_names = firm_row(RowFrame(sample, as_of, ref), 0)
            self.features = ranker.encoder.prepare_policies(columns, firm_names)
            unknown = [c for c in self.features.pair_columns if c not in C.PAIR_BUILT]
            if unknown:
                raise ValueError(f"pair feature(s) {unknown} are not built by the one-firm path")


class _PolicySet:
    """One policy set (the catalog, or one family of it) prepared for one-firm matching."""

    def __init__(self, policies: list[Policy], ref: ReferenceTables, ranker: Any) -> None:
        self.policies = policies
        self.plan = EligibilityPlan(policies)
        self.grants = [p.header.relations.grants for p in policies]     # as relations.held_matrix reads
        self.ref = ref
        self.ranker = ranker
        self._dated: PerDate[_Dated] = PerDate(
            lambda day: _Dated(self.policies, self.plan, day, self.ref, self.ranker))

    def dated(self, as_of: dt.date) -> _Dated:
        return self._dated.get(as_of)


class OneFirmMatcher:
    """A catalog and ranker prepared for matching one firm at a time.

    Parameters
    ----------
    catalog : Catalog
    ref : ReferenceTables
    ranker : LearnedRanker or None
        The loaded learned ranker (None: the rule order only). Its ``rank_by`` variants
        (``Matcher.ranker_for``) share its encoder and trees, so they are served too.
    warm : sequence of datetime.date
        Dates prepared now rather than on first use (e.g. today).

    Raises
    ------
    ValueError
        The catalog or model needs something this path does not build (the caller then
        serves every request with ``match_frame``).
    """

    def __init__(self, catalog: Catalog, ref: ReferenceTables, ranker: Ranker | None,
                 warm: tuple[dt.date, ...] = ()) -> None:
        from recommender.ranking import LearnedRanker
        self.catalog = catalog
        self.ref = ref
        self._learned_type = LearnedRanker
        learned = ranker if isinstance(ranker, LearnedRanker) else None
        self._encoder = None if learned is None else learned.encoder
        policies = list(catalog)
        families = sorted({p.header.family for p in policies})
        self._sets: dict[str | None, _PolicySet] = {None: _PolicySet(policies, ref, learned)}
        for f in families:
            self._sets[f] = _PolicySet([p for p in policies if p.header.family == f], ref, learned)
        for day in warm:
            for s in self._sets.values():
                s.dated(day)

    def supports(self, options: MatchOptions, ranker: Ranker) -> bool:
        """Whether :meth:`match` serves a request with these options and ranker."""
        if options.explain or not options.detail or options.family not in self._sets:
            return False
        if isinstance(ranker, RuleRanker):
            return True
        return isinstance(ranker, self._learned_type) and ranker.encoder is self._encoder

    def match(self, profile: FirmProfile, as_of: dt.date, options: MatchOptions, ranker: Ranker) -> dict[str, Any]:
        """The SPEC §5 result of one firm, as ``match_frame`` gives it (check :meth:`supports`)."""
        pset = self._sets[options.family]
        dated = pset.dated(as_of)
        policies = pset.policies
        frame = RowFrame(profile, as_of, self.ref)
        elig = dated.plan.evaluate(frame)
        verdicts = np.array([elig.verdicts], dtype=np.int8)
        low, high = dated.low.copy(), dated.high.copy()
        for j in dated.formulas:
            low[0, j], high[0, j] = policies[j].estimate_row(frame, 0)
        point = np.where(np.isnan(low), np.nan, (low + high) / 2)
        if isinstance(ranker, RuleRanker):
            share = np.array([[elig.share_met(j) for j in range(len(policies))]])
            scores = ranker.score_matrix(verdicts, share)
            orders = ranker.order_verdicts(verdicts, share, point)
            prob = None
        else:
            scores = self._learned_scores(dated, elig, verdicts, low, high, ranker)
            orders = ranker.order_verdicts(verdicts, scores, point)  # type: ignore[attr-defined]  # only the rule ranker is served here; the protocol does not declare it
            prob = scores.approval_probability
        held = np.array([[g is not None and frame.scalar(f"cert_{g}") == 1.0 for g in pset.grants]])
        view = relation_view(policies, frame, verdicts, point, held)
        total, total_per_year = totals(view, point)
        shown = _shown(orders[0], verdicts[0], view.held[0], options)
        matches: list[dict[str, Any]] = []
        for col in shown:
            matches.append(match_entry(
                policies[col], len(matches) + 1, int(verdicts[0, col]), float(scores.score[0, col]),
                low[0, col], high[0, col], point[0, col], None if prob is None else float(prob[0, col]), as_of,
                dated.windows[policies[col].id], match_relations(view, 0, col), elig.explain(col)))
        shim = Eligibility(frame, {})
        result = result_entry(frame.value("firm_id", 0), as_of, self.catalog.version, ranker.version,
                              derived_facts(shim, 0), total[0], total_per_year[0], matches)
        if view.held[0].any():
            result["held_titles"] = held_titles(view, verdicts, 0)
        return result

    def _learned_scores(self, dated: _Dated, elig: RowEligibility, verdicts: np.ndarray, low: np.ndarray,
                        high: np.ndarray, ranker: Any) -> Scores:
        """As :meth:`LearnedRanker.score` for one firm: candidates only, probability of each."""
        from recommender.ranking import INELIGIBLE_SCORE
        n_pol = verdicts.shape[1]
        score = np.full((1, n_pol), INELIGIBLE_SCORE)
        prob = np.zeros((1, n_pol))
        cols = np.flatnonzero(verdicts[0] >= 1)
        if len(cols) == 0:
            return Scores(score=score, approval_probability=prob)
        margins = np.array([elig.margin_summary(int(j)) for j in cols], dtype="float64").reshape(-1, 3)
        pairs = pair_columns(verdicts[0, cols], np.array([elig.share_met(int(j)) for j in cols]),
                             np.array([elig.unknown_count(int(j)) for j in cols], dtype="float64"),
                             (margins[:, 0], margins[:, 1], margins[:, 2]), low[0, cols], high[0, cols])
        assert dated.features is not None
        X = ranker.encoder.transform_firm(dated.features, firm_row(elig.frame, 0), pairs, cols)
        score[0, cols] = ranker.predict("ranker", X)
        prob[0, cols] = ranker.predict("approval", X)
        apply = None
        if ranker.needs_apply:
            apply = np.zeros((1, n_pol))
            apply[0, cols] = ranker.predict("apply", X)
        return Scores(score=score, approval_probability=prob, apply_probability=apply)
