"""The logistic model: what ``train`` ships when the out-of-time gate finds the logistic
baseline ahead of the learned ranker (:mod:`models.gate`).

Pairs are built and encoded exactly as for the learned ranker (the shipped feature
transformer's state and the history at the training cut-off); the score is the logistic
model's log-odds of approval (:class:`models.linear.LinearScorer`). Candidates come before
ineligible policies, then the score, then estimated benefit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features import columns as C
from features.encoder import PairEncoder
from features.history import HistoryStats, attach_history
from models.artifacts import load_baseline_artifact
from models.errors import ModelArtifactError
from models.linear import LinearScorer
from recommender.engine import Eligibility, benefit_matrix
from recommender.ranking.pairs import pair_table, policy_spans
from recommender.ranking.rules import CandidateOrder, Scores
from recommender.rules import Catalog

INELIGIBLE = -1e9
"""Score of an ineligible pair (below any log-odds)."""


class LinearRanker(CandidateOrder):
    """Ranker protocol over a ``kind: logistic`` model directory."""

    def __init__(self, model_dir: Path, catalog: Catalog) -> None:
        art = load_baseline_artifact(Path(model_dir), "logistic")
        self.version: str = art.version
        try:
            self._encoder = PairEncoder.from_state(art.feature_state["transformer"])
            self._history = HistoryStats.from_json(art.feature_state["history"])
            self._scorer = LinearScorer.from_json(art.feature_state["linear"])
        except (KeyError, ValueError, TypeError) as err:
            raise ModelArtifactError(f"model {model_dir}: its state is invalid ({err})") from None
        if list(self._scorer.feature_names) != list(self._encoder.feature_names):
            raise ModelArtifactError(f"model {model_dir}: the linear model's features differ from the encoder's")
        self._spans = policy_spans(tuple(catalog))

    def score(self, elig: Eligibility, benefit: np.ndarray) -> Scores:
        n, n_pol = elig.frame.n, len(elig.outcomes)
        low, high = benefit_matrix(elig)
        table = pair_table(elig, low, high)
        policies = pd.DataFrame({C.POLICY_ID: table.policies[C.POLICY_ID], C.POLICY_FAMILY: table.policies[C.POLICY_FAMILY]})
        history = attach_history(policies, self._history, self._spans)
        table = table.with_policy_columns({c: history[c].to_numpy(dtype="float64") for c in C.HISTORY_NUMERIC})
        score = np.full((n, n_pol), INELIGIBLE)
        if len(table):
            score[table.rows, table.cols] = self._scorer.predict(self._encoder.transform(table))
        return Scores(score=score)
