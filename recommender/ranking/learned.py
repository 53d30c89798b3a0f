"""The learned ranker: LambdaRank order and calibrated approval probability behind the
:class:`~recommender.matching.results.Ranker` protocol.

Eligibility stays a hard constraint: only eligible and undetermined pairs are scored by the
model; ineligible pairs get :data:`INELIGIBLE_SCORE` and probability 0, and the order is
built by :func:`recommender.ranking.rules.order` with the verdict as first key, so an
ineligible policy is never above an eligible one. Policies are described to the model by
their attributes only (never by id), so a policy added after training is ranked on day one.

>>> ranker = LearnedRanker(Path("data/models/default"), catalog)          # doctest: +SKIP
>>> match_frame(profiles, catalog, as_of, ref, options, ranker=ranker)     # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from features import columns as C
from features.history import HistoryStats, attach_history
from features.pair_table import PairTable
from features.encoder import PairEncoder
from models.artifacts import (APPLY_CALIBRATOR, APPLY_CLASSIFIER, CLASSIFIER, FEATURES, RANKER, Artifact,
                              load_artifact, read_booster,
                             read_calibrator, read_verified)
from models.errors import ModelArtifactError
from models.prediction import SMALL_PREDICT, predict_threads
from recommender.rules import Catalog, Compare, Tiered
from recommender.engine import Eligibility, benefit_matrix
from recommender.ranking.pairs import leaf_margins, pair_table, policy_spans
from recommender.ranking.rules import Scores, order_candidates

_LOAD_LOCK = threading.Lock()
"""Serialises the lazy loading and compiling of boosters (chunk threads share a ranker)."""
BLOCK_PAIRS = 50_000
"""Pairs whose features are built at a time (bounds the float matrix to about 30 MB)."""
INELIGIBLE_SCORE = -1000.0
"""Score of an ineligible pair (below any LambdaRank score the model produces in practice)."""
RankBy = Literal["relevance", "expected_value"]

_RATIO_FIELDS = {"rd_intensity", "rd_intensity_3y", "tech_staff_ratio", "rd_staff_ratio",
                 "revenue_growth", "high_tech_revenue_share", "main_business_share",
                 "export_share", "layoff_rate", "rd_domestic_share"}
_VALUE_WORDS: dict[str, dict[object, str]] = {
    C.VERDICT: {2: "every criterion is met", 1: "no criterion fails, but some cannot be checked yet"},
    C.DAYS_TO_END: {"unknown": "the policy has no end date"},
}
_PLAIN = {
    C.VERDICT: "eligibility",
    C.SHARE_MET: "the share of criteria already met",
    C.UNKNOWN_COUNT: "criteria that cannot be checked yet (missing data)",
    f"log_{C.BENEFIT}": "the estimated benefit",
    f"log_{C.BENEFIT_LOW}": "the estimated benefit", f"log_{C.BENEFIT_HIGH}": "the estimated benefit",
    C.SIMILARITY: "how close the business scope is to the policy text",
    C.POLICY_PRIOR_APPROVAL_RATE: "how often this policy was approved last year",
    f"log_{C.POLICY_PRIOR_APPLICATIONS}": "how many firms applied for this policy last year",
    C.FAMILY_PRIOR_APPROVAL_RATE: "how often policies of this family were approved last year",
    C.N_UNKNOWN_FIELDS: "how complete the firm's profile is",
    C.DAYS_TO_END: "days left before the policy ends",
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
        Among the candidates, order by the LambdaRank score, or by expected value: P(apply) ×
        P(approve | apply) × benefit (P(apply) when the model has it, :attr:`has_apply`;
        unknown benefit last, then by score). The ``approval_probability`` shown stays
        P(approve | apply).
    check_catalog : bool, default True
    compiled_dir : Path, optional
        Where the boosters compiled to native code (lleaves) are kept. When they are there,
        predictions use them (and LightGBM is never loaded); with ``compile_missing`` a batch
        of :data:`~models.prediction.SMALL_PREDICT` pairs or more compiles them first (about
        20 s once per model). Scores equal LightGBM's within float rounding.
    compile_missing : bool, default True
        False for interactive use (the API, ``match``): use compiled trees only if present.

    Raises
    ------
    ModelArtifactError
        Missing or altered files, feature names differing from this code's, another catalog.
    """

    def __init__(self, model_dir: Path, catalog: Catalog, *, rank_by: RankBy = "relevance",
                 check_catalog: bool = True, compiled_dir: Path | None = None,
                 compile_missing: bool = True) -> None:
        if rank_by not in ("relevance", "expected_value"):
            raise ValueError(f"rank_by must be 'relevance' or 'expected_value', got {rank_by!r}")
        model_dir = Path(model_dir)
        try:
            state = json.loads((model_dir / FEATURES).read_text(encoding="utf-8"))
            self._features = PairEncoder.from_state(state["transformer"])
            self._history = HistoryStats.from_json(state["history"])
        except FileNotFoundError:
            raise ModelArtifactError(f"model {model_dir}: missing file {FEATURES}") from None
        except (KeyError, ValueError, TypeError) as err:
            raise ModelArtifactError(f"model {model_dir}: {FEATURES} is invalid ({err})") from None
        manifest, blobs = read_verified(model_dir, expected_features=self._features.feature_names,
                                        catalog_version=catalog.version if check_catalog else None)
        self.version: str = str(manifest["model_version"])
        self.feature_names: list[str] = list(self._features.feature_names)
        self._files = {"ranker": RANKER, "approval": CLASSIFIER, "apply": APPLY_CLASSIFIER}
        self._calibrators = {"approval": read_calibrator(model_dir, blobs)}
        self._texts = {"ranker": blobs[RANKER], "approval": blobs[CLASSIFIER]}
        if APPLY_CLASSIFIER in blobs:
            self._calibrators["apply"] = read_calibrator(model_dir, blobs, APPLY_CALIBRATOR)
            self._texts["apply"] = blobs[APPLY_CLASSIFIER]
        self._boosters: dict[str, Any] = {}        # LightGBM, loaded on first use
        self._history_cache: dict[tuple[str, ...], dict[str, np.ndarray]] = {}
        self._spans = policy_spans(tuple(catalog))
        self._model_dir = model_dir
        self._compiled_dir = None if compiled_dir is None else Path(compiled_dir)
        self._compiled: dict[str, Any] = {}
        self._text_hashes: dict[str, str] = {}
        self._compile_missing = compile_missing
        self.rank_by: RankBy = rank_by
        self.threads = 2
        """Threads of a large prediction; a bulk worker process uses 1 (the processes fill the cores)."""

    def artifact(self) -> Artifact:
        """The full artifact (LightGBM ranker and approval model) for evaluation and reports."""
        return load_artifact(self._model_dir, expected_features=self.feature_names)

    def __getstate__(self) -> dict[str, Any]:
        """Picklable state for worker processes: compiled libraries are reloaded there."""
        return {**self.__dict__, "_compiled": {}, "_boosters": {}}

    def _table(self, elig: Eligibility) -> PairTable:
        """Candidate pairs of the run with the history statistics of their policies."""
        low, high = benefit_matrix(elig)
        table = pair_table(elig, low, high)
        return table.with_policy_columns(self._policy_history(table))

    @property
    def encoder(self) -> PairEncoder:
        """The fitted pair-feature encoding (its ``feature_names`` are the model's inputs)."""
        return self._features

    def _policy_history(self, table: PairTable) -> dict[str, np.ndarray]:
        return self.policy_history(table.policies[C.POLICY_ID], table.policies[C.POLICY_FAMILY])

    def policy_history(self, policy_ids: Any, families: Any) -> dict[str, np.ndarray]:
        """History statistics per policy (policy-level columns, in the order given; computed
        once per catalog, then kept)."""
        ids = tuple(str(v) for v in policy_ids)
        cached = self._history_cache.get(ids)
        if cached is None:
            frame = attach_history(pd.DataFrame({C.POLICY_ID: list(ids), C.POLICY_FAMILY: families}),
                                   self._history, self._spans)
            cached = {name: frame[name].to_numpy(dtype="float64") for name in C.HISTORY_NUMERIC}
            self._history_cache = {ids: cached}        # one catalog at a time
        return cached

    def _matrix(self, elig: Eligibility) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Feature matrix of every candidate pair, with the pairs' firm rows and policy columns."""
        table = self._table(elig)
        return self._features.transform(table), table.rows, table.cols

    @property
    def has_apply(self) -> bool:
        """Whether the model has a P(apply) classifier (models trained since issue 21)."""
        return "apply" in self._texts

    @property
    def needs_apply(self) -> bool:
        """Whether the order multiplies P(apply) in (expected value, and the model has it)."""
        return self.rank_by == "expected_value" and self.has_apply

    def predict(self, which: str, X: np.ndarray) -> np.ndarray:
        """Ranker scores (``which="ranker"``), calibrated approval probabilities
        (``"approval"``, P(approve | apply)) or calibrated P(apply) (``"apply"``) of a feature
        matrix in :attr:`feature_names` order."""
        return self._predict(which, X)

    def _predict(self, which: str, X: np.ndarray) -> np.ndarray:
        """Ranker scores or a calibrated probability (see :meth:`predict`).

        By the compiled trees when they are at hand (compiled for a large batch if missing),
        else by LightGBM (loaded on first use): the same raw scores within float rounding.
        """
        compiled = self._compiled_model(which, build=self._compile_missing and len(X) >= SMALL_PREDICT)
        threads = predict_threads(len(X), self.threads)
        if compiled is not None:
            raw = compiled.predict(X, n_jobs=threads)
        else:
            raw = self._booster(which).predict(X, raw_score=True, num_threads=threads)
        return np.asarray(raw) if which == "ranker" else self._calibrators[which](raw)

    def _booster(self, which: str) -> Any:
        if which not in self._boosters:
            with _LOAD_LOCK:                          # chunk threads: load once
                if which not in self._boosters:
                    self._boosters[which] = read_booster(self._model_dir, self._files[which], self._texts[which],
                                                         self.feature_names)
        return self._boosters[which]

    def compile_trees(self) -> bool:
        """Compile (or load from ``compiled_dir``) every booster now rather than on the first
        large batch; False when no ``compiled_dir`` is configured."""
        return all(self._compiled_model(which, build=True) is not None for which in self._texts)

    def _compiled_model(self, which: str, *, build: bool) -> Any:
        """The booster compiled to native code (raw scores): loaded from ``compiled_dir`` when
        there, compiled into it when ``build``; None without it (or without ``compiled_dir``)."""
        if self._compiled_dir is None:
            return None
        if which not in self._compiled:
            text = self._texts[which]
            if which not in self._text_hashes:       # hashed once: this runs per prediction
                self._text_hashes[which] = hashlib.sha256(text).hexdigest()[:16]
            path = self._compiled_dir / f"{which}-{self._text_hashes[which]}-raw.so"
            if not (build or path.exists()):
                return None
            from recommender.ranking.compiled_trees import compile_booster
            with _LOAD_LOCK:                          # chunk threads: compile (or load) once
                if which not in self._compiled:
                    self._compiled[which] = compile_booster(text.decode(), path, raw_score=True)
        return self._compiled[which]

    def score(self, elig: Eligibility, benefit: np.ndarray) -> Scores:
        """LambdaRank score per (firm, policy); the calibrated approval probability too.

        Features are built in blocks of :data:`BLOCK_PAIRS` pairs, so memory stays bounded
        for a large batch. With ``rank_by="relevance"`` and a large batch the probability is
        computed only for the pairs a caller asks for (:meth:`Scores.probability_at`): the
        matches shown, not every candidate.
        """
        n, n_pol = elig.frame.n, len(elig.outcomes)
        score = np.full((n, n_pol), INELIGIBLE_SCORE)
        table = self._table(elig)
        # The probability of every candidate when the order needs it, or when the batch is
        # small enough that one more prediction costs less than building features twice.
        full_prob = self.rank_by == "expected_value" or len(table) < SMALL_PREDICT
        prob = np.zeros((n, n_pol)) if full_prob else None
        apply = np.zeros((n, n_pol)) if self.needs_apply else None
        buffer = self._buffer(len(table))
        for start in range(0, len(table), BLOCK_PAIRS):
            part = table.take(np.arange(start, min(start + BLOCK_PAIRS, len(table))))
            X = self._features.transform(part, out=buffer[:len(part)])
            rows, cols = table.rows[start:start + len(part)], part.cols
            score[rows, cols] = self._predict("ranker", X)
            if prob is not None:
                prob[rows, cols] = self._predict("approval", X)
            if apply is not None:
                apply[rows, cols] = self._predict("apply", X)
        if prob is not None:
            return Scores(score=score, approval_probability=prob, apply_probability=apply)
        position = np.full((n, n_pol), -1, dtype=np.int64)
        position[table.rows, table.cols] = np.arange(len(table))

        def approval(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
            out = np.zeros(len(rows))
            pos = position[rows, cols]
            hit = np.flatnonzero(pos >= 0)                 # ineligible pairs: probability 0
            buffer = self._buffer(len(hit))
            for start in range(0, len(hit), BLOCK_PAIRS):
                chunk = hit[start:start + BLOCK_PAIRS]
                X = self._features.transform(table.take(pos[chunk]), out=buffer[:len(chunk)])
                out[chunk] = self._predict("approval", X)
            return out

        return Scores(score=score, approval=approval)

    def _buffer(self, n_pairs: int) -> np.ndarray:
        """One block's feature matrix, reused by every block of a call."""
        return np.empty((min(n_pairs, BLOCK_PAIRS), len(self.feature_names)))

    def order(self, elig: Eligibility, scores: Scores, benefit: np.ndarray) -> np.ndarray:
        """Column order per firm: candidates before ineligible policies (the one hard rule),
        then the model's score (or expected value, then score); the verdict is a feature, not
        a sort key (issue 21)."""
        return self.order_verdicts(elig.verdict_matrix(), scores, benefit)

    def order_verdicts(self, verdict: np.ndarray, scores: Scores, benefit: np.ndarray) -> np.ndarray:
        """:meth:`order` from the verdict matrix itself."""
        if self.rank_by == "expected_value" and scores.approval_probability is not None:
            return order_candidates(verdict, scores.expected_value(benefit), scores.score)
        return order_candidates(verdict, scores.score, benefit)

    def explain(self, elig: Eligibility, row: int, col: int, top: int = 3) -> list[str]:
        """Plain-word reasons for one pair's rank (:meth:`explain_pairs` for one pair)."""
        return self.explain_pairs(elig, np.array([row]), np.array([col]), top)[0]

    def explain_pairs(self, elig: Eligibility, rows: np.ndarray, cols: np.ndarray,
                      top: int = 3) -> list[list[str]]:
        """Plain-word reasons for the rank of each pair ``(rows[i], cols[i])``: the ``top``
        largest LightGBM feature contributions (``pred_contrib``), e.g. "R&D intensity 6.1 %
        is well above the 3 % bar (raises the rank)". An ineligible pair (not scored by the
        model) gets an empty list. Costs about a millisecond a pair: asked for, not default.
        """
        table = self._table(elig)
        position = np.full((elig.frame.n, len(elig.outcomes)), -1, dtype=np.int64)
        position[table.rows, table.cols] = np.arange(len(table))
        pos = position[np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)]
        out: list[list[str]] = [[] for _ in range(len(pos))]
        hit = np.flatnonzero(pos >= 0)
        if len(hit) == 0:
            return out
        X = self._features.transform(table.take(pos[hit]))
        contrib = self._booster("ranker").predict(X, pred_contrib=True,
                                                  num_threads=predict_threads(len(X), self.threads))[:, :-1]
        names = self.feature_names
        outcomes = list(elig.outcomes.values())
        for k, i in enumerate(hit):
            row, col = int(rows[i]), int(cols[i])
            for j in np.argsort(-np.abs(contrib[k])):
                if len(out[i]) >= top or contrib[k, j] == 0:
                    break
                text = self._describe(names[j], float(contrib[k, j]), X[k, j], outcomes[col], elig, row)
                if text not in out[i]:
                    out[i].append(text)
        return out

    def _describe(self, name: str, contrib: float, value: float, outcome: object,
                  elig: Eligibility, row: int) -> str:
        direction = "raises" if contrib > 0 else "lowers"
        if name.startswith("margin_"):
            sentence = _margin_sentence(outcome, elig, row, name)
            if sentence:
                return f"{sentence} ({direction} the rank)"
        if name in _VALUE_WORDS:
            words = _VALUE_WORDS[name]
            key = "unknown" if np.isnan(value) else int(value)
            if key in words:
                return f"{words[key]} ({direction} the rank)"
        if name in self._features.categorical_features:
            field = name.replace("_", " ")
            if np.isnan(value):
                return f"{field} is unknown ({direction} the rank)"
            return f"{field} is {self._features.categories[name][int(value)]} ({direction} the rank)"
        if "=" in name:                                   # one-hot column of an older model
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
    margins = [(leaf, m[row]) for leaf, m in leaf_margins(outcome, elig) if not np.isnan(m[row])]  # type: ignore[arg-type]  # leaf_margins lists numeric leaves only
    if not margins:
        return None
    pick = min if name == C.MARGIN_MIN else max
    leaf, m = pick(margins, key=lambda t: t[1])
    if not isinstance(leaf, (Compare, Tiered)):
        return None
    observed = elig.frame.num(leaf.field)[row]
    if isinstance(leaf, Tiered):
        required = float(leaf.required_values(elig.frame)[row])
    else:
        required = float(leaf.value.resolve(elig.frame.as_of))  # type: ignore[arg-type]  # a numeric leaf resolves to a number on its date
    upper = leaf.op in ("<=", "<")
    side = "below" if upper else "above"
    degree = "well " if m >= 0.5 else ("just " if m < 0.1 else "")
    if m < 0:
        degree, side = "", ("above" if upper else "below")
    bar = "limit" if upper else "bar"
    field = leaf.field.replace("_", " ")
    field = "R&D intensity" if leaf.field == "rd_intensity" else field
    return f"{field} {_fmt(leaf.field, observed)} is {degree}{side} the {_fmt(leaf.field, required)} {bar}"
