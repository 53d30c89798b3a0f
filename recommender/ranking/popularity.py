"""The popularity model: what ``train`` ships when the out-of-time gate finds that the learned
ranker does not beat "most approved policies first" (:mod:`models.gate`).

Candidates (eligible or undetermined) are ordered by their policy's approvals per year in
force in the year before the training cut-off (``features.history``), then by estimated
benefit; nothing ineligible ranks above a candidate. A policy with nothing observable (new
since the cut-off) counts as no approvals. ``score`` is ``log1p(approvals per year)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features import columns as C
from features.history import HistoryStats, attach_history
from models.artifacts import load_baseline_artifact
from models.errors import ModelArtifactError
from recommender.engine import Eligibility
from recommender.ranking.pairs import policy_spans
from recommender.ranking.rules import CandidateOrder, Scores
from recommender.rules import Catalog

INELIGIBLE = -1.0
"""Score of an ineligible pair (below every candidate's, which are ≥ 0)."""


class PopularityRanker(CandidateOrder):
    """Ranker protocol over a ``kind: popularity`` model directory."""

    def __init__(self, model_dir: Path, catalog: Catalog) -> None:
        art = load_baseline_artifact(Path(model_dir), "popularity")
        self.version: str = art.version
        try:
            stats = HistoryStats.from_json(art.feature_state["history"])
        except (KeyError, ValueError, TypeError) as err:
            raise ModelArtifactError(f"model {model_dir}: its history is invalid ({err})") from None
        policies = tuple(catalog)
        frame = attach_history(pd.DataFrame({C.POLICY_ID: [p.id for p in policies],
                                             C.POLICY_FAMILY: [p.header.family for p in policies]}),
                               stats, policy_spans(policies))
        approvals = np.nan_to_num(frame[C.POLICY_PRIOR_APPROVALS].to_numpy(dtype="float64"), nan=0.0)
        self._score = dict(zip((p.id for p in policies), np.log1p(approvals).tolist(), strict=True))

    def policy_scores(self, policy_ids: list[str]) -> np.ndarray:
        """``log1p(approvals per year)`` of each policy (0 when unknown)."""
        return np.array([self._score.get(p, 0.0) for p in policy_ids], dtype="float64")

    def score_verdicts(self, verdict: np.ndarray, policy_ids: list[str]) -> Scores:
        """:meth:`score` from a verdict matrix whose columns are ``policy_ids``."""
        return Scores(score=np.where(verdict >= 1, self.policy_scores(policy_ids)[None, :], INELIGIBLE))

    def score(self, elig: Eligibility, benefit: np.ndarray) -> Scores:
        return self.score_verdicts(elig.verdict_matrix(), list(elig.outcomes))
