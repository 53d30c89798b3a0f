"""The rule order used until (and as a baseline beside) the learned ranker: ``rules-v1``.

Order: verdict (eligible, undetermined, ineligible), then estimated benefit in yuan (unknown
last), then the share of measurable criteria met, then policy id. The score shown is
``(verdict_code + share_met) / 3`` in [0, 1]: eligible firms score in [2/3, 1], undetermined
in [1/3, 2/3], ineligible in [0, 1/3]; it is comparable across firms, unlike a LambdaRank score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from recommender.engine import Eligibility

RULES_VERSION = "rules-v1"


@dataclass(frozen=True)
class Scores:
    """Per (firm, policy) arrays, shape ``(n_firms, n_policies)`` in ``policy_ids`` order.

    The approval probability is either a full matrix or computed on demand for the pairs a
    caller shows (``approval(rows, cols)``): ranking by relevance needs it only for those.
    """

    score: np.ndarray
    approval_probability: np.ndarray | None = None
    approval: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    apply_probability: np.ndarray | None = None
    """P(apply) per pair, when the order needs it (expected value with a model that has it)."""

    def expected_value(self, benefit: np.ndarray) -> np.ndarray:
        """P(apply) × P(approve | apply) × benefit per pair (P(apply) taken as 1 when not
        computed): what a recommendation is worth in yuan, counting whether firms like this one
        apply at all. Needs the full approval matrix."""
        if self.approval_probability is None:
            raise ValueError("expected_value needs the full approval probability matrix")
        value = self.approval_probability * benefit
        return value if self.apply_probability is None else value * self.apply_probability

    @property
    def has_probability(self) -> bool:
        return self.approval_probability is not None or self.approval is not None

    def probability_at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray | None:
        """Approval probability of the pairs ``(rows[i], cols[i])``; None without a model."""
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        if self.approval_probability is not None:
            return self.approval_probability[rows, cols]
        if self.approval is not None:
            return self.approval(rows, cols)
        return None


class RuleRanker:
    """Scores pairs by verdict and share of criteria met (no learning)."""

    version = RULES_VERSION

    def score(self, elig: Eligibility, benefit: np.ndarray) -> Scores:
        return self.score_matrix(elig.verdict_matrix(), _share(elig))

    def order(self, elig: Eligibility, scores: Scores, benefit: np.ndarray) -> np.ndarray:
        """rules-v1: verdict, estimated benefit, share of criteria met."""
        return self.order_verdicts(elig.verdict_matrix(), _share(elig), benefit)

    @staticmethod
    def score_matrix(verdict: np.ndarray, share: np.ndarray) -> Scores:
        """:meth:`score` from the verdict and share-met matrices."""
        return Scores(score=(verdict.astype("float64") + share) / 3.0)

    @staticmethod
    def order_verdicts(verdict: np.ndarray, share: np.ndarray, benefit: np.ndarray) -> np.ndarray:
        """:meth:`order` from the verdict and share-met matrices."""
        return order(verdict, benefit, share)


class CandidateOrder:
    """The order of a model shipped in place of the rules (learned, popularity, logistic):
    candidates before ineligible policies, then the score, then estimated benefit."""

    def order(self, elig: Eligibility, scores: Scores, benefit: np.ndarray) -> np.ndarray:
        return self.order_verdicts(elig.verdict_matrix(), scores, benefit)

    def order_verdicts(self, verdict: np.ndarray, scores: Scores, benefit: np.ndarray) -> np.ndarray:
        """:meth:`order` from the verdict matrix itself."""
        return order_candidates(verdict, scores.score, benefit)


def _share(elig: Eligibility) -> np.ndarray:
    return np.stack([o.share_met() for o in elig.outcomes.values()], axis=1)


def order(verdict: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """Column order per firm row: verdict first, then each key in turn, all descending.

    ``keys`` are ``(n_firms, n_policies)`` float arrays; NaN sorts last. Returns policy column
    indices, best first; ties keep catalog (id) order. An ineligible policy never precedes an
    eligible or undetermined one, whatever the keys say.
    """
    cleaned = [np.where(np.isnan(k), -np.inf, k) for k in keys]
    sort_keys = tuple(-k for k in reversed(cleaned)) + (-verdict.astype("float64"),)
    return np.lexsort(sort_keys, axis=-1)


def order_candidates(verdict: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """Column order per firm row for a learned or popularity order: candidates (eligible or
    undetermined) before ineligible policies — the one hard rule — then each key in turn,
    descending (NaN last). Unlike :func:`order` an undetermined policy may rank above an
    eligible one when the keys say so: the verdict is one of the model's features, and in
    real histories undetermined firms are approved about as often."""
    return order((verdict >= 1).astype(np.int8), *keys)
