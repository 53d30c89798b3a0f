"""The learned ranker: LambdaRank order and calibrated approval probability behind the
:class:`~recommender.matching.Ranker` protocol.

Eligibility stays a hard constraint: only eligible and undetermined pairs are scored by the
model; ineligible pairs get :data:`INELIGIBLE_SCORE` and probability 0, and the order is
built by :func:`recommender.ranking_rules.order` with the verdict as first key, so an
ineligible policy is never above an eligible one. Policies are described to the model by
their attributes only (never by id), so a policy added after training is ranked on day one.

>>> ranker = LearnedRanker(Path("data/models/default"), catalog)          # doctest: +SKIP
>>> match_frame(profiles, catalog, as_of, ref, options, ranker=ranker)     # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np

from features import columns as C
from features.history import HistoryStats, attach_history
from features.transformers import PairFeatures
from models.artifacts import FEATURES, load_artifact
from models.errors import ModelArtifactError
from recommender.catalog import Catalog
from recommender.criteria import Compare, Tiered
from recommender.eligibility import Eligibility
from recommender.matching import benefit_matrix
from recommender.pairs_table import build_pairs, leaf_margins
from recommender.ranking_rules import Scores, order

INELIGIBLE_SCORE = -1000.0
"""Score of an ineligible pair (below any LambdaRank score the model produces in practice)."""
RankBy = Literal["relevance", "expected_value"]

_RATIO_FIELDS = {"rd_intensity", "rd_intensity_3y", "tech_staff_ratio", "rd_staff_ratio",
                 "revenue_growth", "high_tech_revenue_share", "main_business_share",
                 "export_share", "layoff_rate", "rd_domestic_share"}
_PLAIN = {
    "verdict": "every criterion checked so far is met",
    "share_met": "the share of criteria already met",
    "unknown_count": "criteria that cannot be checked yet (missing data)",
    "log_benefit_point": "the estimated benefit",
    "log_benefit_low": "the estimated benefit", "log_benefit_high": "the estimated benefit",
    "scope_policy_similarity": "how close the business scope is to the policy text",
    "policy_prior_approval_rate": "how often this policy was approved last year",
    "log_policy_prior_applications": "how many firms applied for this policy last year",
    "family_prior_approval_rate": "how often policies of this family were approved last year",
    "n_unknown_fields": "how complete the firm's profile is",
    "days_to_end": "the time left before the policy ends",
}


class LearnedRanker:
    """Ranker protocol over a saved LambdaRank + approval-probability artifact.

    Parameters
    ----------
    model_dir : Path
        A directory written by ``recommender train`` (``models.artifacts`` layout).
    catalog : Catalog
        The catalog matching will run on; its version must equal the model's unless
        ``check_catalog`` is False.
    rank_by : {"relevance", "expected_value"}, default "relevance"
        Within a verdict, order by the LambdaRank score, or by approval probability × benefit
        (unknown benefit last, then by score).
    check_catalog : bool, default True

    Raises
    ------
    ModelArtifactError
        Missing or altered files, feature names differing from this code's, another catalog.
    """

    def __init__(self, model_dir: Path, catalog: Catalog, *, rank_by: RankBy = "relevance",
                 check_catalog: bool = True) -> None:
        if rank_by not in ("relevance", "expected_value"):
            raise ValueError(f"rank_by must be 'relevance' or 'expected_value', got {rank_by!r}")
        model_dir = Path(model_dir)
        try:
            state = json.loads((model_dir / FEATURES).read_text(encoding="utf-8"))
            self._features = PairFeatures.from_state(state["transformer"])
            self._history = HistoryStats.from_json(state["history"])
        except FileNotFoundError:
            raise ModelArtifactError(f"model {model_dir}: missing file {FEATURES}") from None
        except (KeyError, ValueError, TypeError) as err:
            raise ModelArtifactError(f"model {model_dir}: {FEATURES} is invalid ({err})") from None
        self._artifact = load_artifact(
            model_dir, expected_features=[str(n) for n in self._features.get_feature_names_out()],
            catalog_version=catalog.version if check_catalog else None)
        self.version: str = self._artifact.version
        self.rank_by: RankBy = rank_by

    def _matrix(self, elig: Eligibility) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        low, high = benefit_matrix(elig)
        pairs = attach_history(build_pairs(elig, low, high), self._history)
        X = self._features.transform(pairs) if len(pairs) else np.empty((0, len(self._artifact.feature_names)))
        return X, pairs[C.ROW].to_numpy(dtype=int), pairs[C.COL].to_numpy(dtype=int)

    def score(self, elig: Eligibility, benefit: np.ndarray) -> Scores:
        """LambdaRank score and calibrated approval probability per (firm, policy)."""
        shape = (elig.frame.n, len(elig.outcomes))
        score = np.full(shape, INELIGIBLE_SCORE)
        prob = np.zeros(shape)
        X, rows, cols = self._matrix(elig)
        if len(X):
            score[rows, cols] = self._artifact.ranker.predict(X)
            prob[rows, cols] = self._artifact.approval.predict_proba(X)
        return Scores(score=score, approval_probability=prob)

    def order(self, elig: Eligibility, scores: Scores, benefit: np.ndarray) -> np.ndarray:
        """Column order per firm: verdict first, then score (or expected value, then score)."""
        verdict = elig.verdict_matrix()
        if self.rank_by == "expected_value" and scores.approval_probability is not None:
            return order(verdict, scores.approval_probability * benefit, scores.score)
        return order(verdict, scores.score, benefit)

    def explain(self, elig: Eligibility, row: int, col: int, top: int = 3) -> list[str]:
        """Plain-word reasons for one pair's rank: the largest ``pred_contrib`` terms.

        Returns an empty list for an ineligible pair (it is not scored by the model).
        """
        X, rows, cols = self._matrix(elig)
        hit = np.flatnonzero((rows == row) & (cols == col))
        if len(hit) == 0:
            return []
        contrib = self._artifact.ranker.contributions(X[hit])[0, :-1]
        names = self._artifact.feature_names
        outcome = list(elig.outcomes.values())[col]
        out: list[str] = []
        for j in np.argsort(-np.abs(contrib)):
            if len(out) >= top or contrib[j] == 0:
                break
            text = self._describe(names[j], float(contrib[j]), X[hit[0], j], outcome, elig, row)
            if text not in out:
                out.append(text)
        return out

    def _describe(self, name: str, contrib: float, value: float, outcome: object,
                  elig: Eligibility, row: int) -> str:
        direction = "raises" if contrib > 0 else "lowers"
        if name.startswith("margin_"):
            sentence = _margin_sentence(outcome, elig, row, name)
            if sentence:
                return f"{sentence} ({direction} the rank)"
        if "=" in name:
            field, val = name.split("=", 1)
            return f"{field.replace('_', ' ')} is{'' if value else ' not'} {val} ({direction} the rank)"
        base = name.removeprefix("log_")
        label = _PLAIN.get(name, base.replace("_", " "))
        shown = "unknown" if np.isnan(value) else _fmt(base, float(np.expm1(value) if name.startswith("log_") else value))
        return f"{label}: {shown} ({direction} the rank)"


def _fmt(field: str, value: float) -> str:
    if field in _RATIO_FIELDS:
        return f"{value * 100:.1f} %"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"


def _margin_sentence(outcome: object, elig: Eligibility, row: int, name: str) -> str | None:
    """"R&D intensity 6.1 % is well above the 3 % bar" for the leaf behind a margin feature."""
    margins = [(leaf, m[row]) for leaf, m in leaf_margins(outcome, elig) if not np.isnan(m[row])]  # type: ignore[arg-type]
    if not margins:
        return None
    pick = min if name == "margin_min" else max
    leaf, m = pick(margins, key=lambda t: t[1])
    if not isinstance(leaf, (Compare, Tiered)):
        return None
    observed = elig.frame.num(leaf.field)[row]
    if isinstance(leaf, Tiered):
        required = float(leaf.required_values(elig.frame)[row])
    else:
        required = float(leaf.value.resolve(elig.frame.as_of))  # type: ignore[arg-type]
    upper = leaf.op in ("<=", "<")
    side = "below" if upper else "above"
    degree = "well " if m >= 0.5 else ("just " if m < 0.1 else "")
    if m < 0:
        degree, side = "", ("above" if upper else "below")
    bar = "limit" if upper else "bar"
    field = leaf.field.replace("_", " ")
    field = "R&D intensity" if leaf.field == "rd_intensity" else field
    return f"{field} {_fmt(leaf.field, observed)} is {degree}{side} the {_fmt(leaf.field, required)} {bar}"
