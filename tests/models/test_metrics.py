"""Ranking metrics against worked examples anyone can redo by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.metrics import expected_calibration_error, map_at_k, ndcg_at_k, recall_at_k

# One query, three documents. Ranked by score: B (rel 2), C (rel 0), A (rel 3).
REL = np.array([3, 2, 0])
SCORE = np.array([0.1, 0.9, 0.5])
Q = np.array([7, 7, 7])


def test_ndcg_at_2_worked_example() -> None:
    # DCG@2 = (2^2-1)/log2(2) + 0 = 3 ; IDCG@2 = 7/1 + 3/log2(3)
    expected = 3.0 / (7.0 + 3.0 / math.log2(3))
    r = ndcg_at_k(REL, SCORE, Q, k=2)
    assert r.values[0] == pytest.approx(expected, abs=1e-12)
    assert r.values[0] == pytest.approx(0.33735197, abs=1e-8)


def test_ndcg_at_3_worked_example() -> None:
    dcg = 3.0 + 0.0 + 7.0 / 2.0
    idcg = 7.0 + 3.0 / math.log2(3) + 0.0
    assert ndcg_at_k(REL, SCORE, Q, k=3).values[0] == pytest.approx(dcg / idcg, abs=1e-12)


def test_map_and_recall_worked_example() -> None:
    # hits in ranked order: 1, 0, 1 ; AP@3 = (1/1 + 2/3) / 2
    assert map_at_k(REL, SCORE, Q, k=3).values[0] == pytest.approx((1 + 2 / 3) / 2)
    assert map_at_k(REL, SCORE, Q, k=2).values[0] == pytest.approx(1 / 2)
    assert recall_at_k(REL, SCORE, Q, k=1).values[0] == pytest.approx(0.5)
    # min_relevant=3: only A counts, ranked third
    assert recall_at_k(REL, SCORE, Q, k=2, min_relevant=3).values[0] == 0.0


def test_ties_keep_input_order() -> None:
    r = ndcg_at_k(np.array([0, 1]), np.array([0.5, 0.5]), np.array([1, 1]), k=1)
    assert r.values[0] == 0.0


def test_queries_without_relevant_documents_are_excluded_and_counted() -> None:
    r = ndcg_at_k(np.array([0, 0, 1, 0]), np.array([1.0, 0.0, 1.0, 0.0]), np.array([1, 1, 2, 2]), k=5)
    assert r.n_excluded == 1
    assert r.queries.tolist() == [2]
    assert r.values.tolist() == [1.0]


def test_bad_input_names_the_argument() -> None:
    with pytest.raises(ValueError, match=r"^k must be a positive integer, got 0$"):
        ndcg_at_k(REL, SCORE, Q, k=0)
    with pytest.raises(ValueError, match=r"^relevance, scores and query_ids must have equal length, got 3, 2 and 3$"):
        ndcg_at_k(REL, SCORE[:2], Q, k=1)
    with pytest.raises(ValueError, match=r"^scores must not contain NaN$"):
        map_at_k(REL, np.array([np.nan, 1, 2]), Q, k=1)


def test_expected_calibration_error_worked_example() -> None:
    # bin 2: p=0.2,0.2 y=0,1 -> |0.5-0.2| * 2/4 ; bin 9: p=0.9 y=1,1 -> |1-0.9| * 2/4
    ece = expected_calibration_error(np.array([0, 1, 1, 1]), np.array([0.2, 0.2, 0.9, 0.9]))
    assert ece == pytest.approx(0.15 + 0.05)
    with pytest.raises(ValueError, match=r"^prob must lie in \[0, 1\]$"):
        expected_calibration_error(np.array([1]), np.array([1.5]))
