"""Per-query ranking metrics: NDCG@k, MAP@k and recall@k. Pure functions on arrays.

Conventions (all three functions)
---------------------------------
* A *query* is one firm; its documents are its candidate policies. ``query_ids`` groups the
  rows; rows of one query need not be contiguous. Queries are reported in sorted id order.
* Order: documents are ranked by ``scores`` descending; **ties keep input order** (stable
  sort), so a tie is broken deterministically and reproducibly, not averaged.
* Relevance: ``relevance`` holds graded, non-negative integer labels. A document is
  *relevant* when its label is at least ``min_relevant`` (default 1).
* A query with no relevant document has no defined score: it is **excluded** from the
  returned values and counted in :attr:`QueryMetric.n_excluded`.
* Higher is better; every value lies in [0, 1].

Examples
--------
>>> r = ndcg_at_k(np.array([3, 2, 0]), np.array([0.1, 0.9, 0.5]), np.array([1, 1, 1]), k=2)
>>> round(float(r.values[0]), 4)
0.3374
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class QueryMetric:
    """Per-query values of one metric.

    Attributes
    ----------
    values : ndarray
        One value per evaluated query, in sorted query-id order.
    queries : ndarray
        The ids of the evaluated queries.
    n_excluded : int
        Queries without any relevant document (not in ``values``).
    """

    values: np.ndarray
    queries: np.ndarray
    n_excluded: int

    @property
    def mean(self) -> float:
        """Mean over evaluated queries (NaN when none)."""
        return float(np.mean(self.values)) if len(self.values) else float("nan")


def _validate(relevance: np.ndarray, scores: np.ndarray, query_ids: np.ndarray,
              k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rel = np.asarray(relevance)
    sc = np.asarray(scores, dtype="float64")
    q = np.asarray(query_ids)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if rel.ndim != 1 or sc.ndim != 1 or q.ndim != 1:
        raise ValueError("relevance, scores and query_ids must be 1-D arrays")
    if not (len(rel) == len(sc) == len(q)):
        raise ValueError(f"relevance, scores and query_ids must have equal length, got "
                         f"{len(rel)}, {len(sc)} and {len(q)}")
    if len(rel) and (np.any(np.isnan(rel.astype("float64"))) or np.any(rel < 0)):
        raise ValueError("relevance must hold non-negative labels without NaN")
    if np.any(np.isnan(sc)):
        raise ValueError("scores must not contain NaN")
    return rel.astype("float64"), sc, q


def _per_query(relevance: np.ndarray, scores: np.ndarray, query_ids: np.ndarray, k: int,
               min_relevant: int):  # type: ignore[no-untyped-def]
    """Yield ``(query, labels in ranked order, all labels)`` for queries with a relevant doc."""
    rel, sc, q = _validate(relevance, scores, query_ids, k)
    order = np.lexsort((np.arange(len(q)), -sc, q))   # by query, score desc, input order
    rel, q_sorted = rel[order], q[order]
    starts = np.flatnonzero(np.r_[True, q_sorted[1:] != q_sorted[:-1]]) if len(q) else np.array([], int)
    bounds = np.r_[starts, len(q)]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        labels = rel[a:b]
        yield q_sorted[a], labels, bool(np.any(labels >= min_relevant))


def _collect(gen, fn) -> QueryMetric:  # type: ignore[no-untyped-def]
    vals, qs, excluded = [], [], 0
    for qid, labels, has_relevant in gen:
        if not has_relevant:
            excluded += 1
            continue
        vals.append(fn(labels))
        qs.append(qid)
    return QueryMetric(np.asarray(vals, dtype="float64"), np.asarray(qs), excluded)


def ndcg_at_k(relevance: np.ndarray, scores: np.ndarray, query_ids: np.ndarray, k: int,
              min_relevant: int = 1) -> QueryMetric:
    """Normalised discounted cumulative gain at ``k``, per query.

    ``DCG@k = Σ_{i=1..k} (2^{rel_i} − 1) / log2(i + 1)`` (graded exponential gains, log base
    2 discount); ``NDCG@k = DCG@k / IDCG@k`` where IDCG@k is the DCG of the query's labels
    sorted descending. See the module docstring for ties and excluded queries.

    Parameters
    ----------
    relevance : array of int, shape (n,)
        Graded labels (0 = not relevant).
    scores : array of float, shape (n,)
        Model scores; higher ranks first.
    query_ids : array, shape (n,)
        Query (firm) of each row.
    k : int
        Cut-off, at least 1.
    min_relevant : int, default 1
        Smallest label that counts as relevant (for exclusion).

    Returns
    -------
    QueryMetric

    Raises
    ------
    ValueError
        Naming the argument: unequal lengths, NaN, negative labels, ``k`` < 1.
    """
    def one(labels: np.ndarray) -> float:
        disc = 1.0 / np.log2(np.arange(2, min(k, len(labels)) + 2))
        gains = 2.0 ** labels - 1.0
        dcg = float(np.sum(gains[:k] * disc))
        idcg = float(np.sum(np.sort(gains)[::-1][:k] * disc))
        return dcg / idcg
    return _collect(_per_query(relevance, scores, query_ids, k, min_relevant), one)


def map_at_k(relevance: np.ndarray, scores: np.ndarray, query_ids: np.ndarray, k: int,
             min_relevant: int = 1) -> QueryMetric:
    """Average precision at ``k``, per query (binary: label ≥ ``min_relevant``).

    ``AP@k = Σ_{i=1..k} P@i · rel_i / min(k, R)`` with ``R`` the query's relevant documents
    and ``P@i`` the precision of the top ``i``. Parameters, returns and errors as
    :func:`ndcg_at_k`.
    """
    def one(labels: np.ndarray) -> float:
        hits = (labels >= min_relevant).astype("float64")
        top = hits[:k]
        precision = np.cumsum(top) / np.arange(1, len(top) + 1)
        return float(np.sum(precision * top) / min(k, hits.sum()))
    return _collect(_per_query(relevance, scores, query_ids, k, min_relevant), one)


def recall_at_k(relevance: np.ndarray, scores: np.ndarray, query_ids: np.ndarray, k: int,
                min_relevant: int = 1) -> QueryMetric:
    """Share of a query's relevant documents (label ≥ ``min_relevant``) in its top ``k``.

    Parameters, returns and errors as :func:`ndcg_at_k`.
    """
    def one(labels: np.ndarray) -> float:
        hits = labels >= min_relevant
        return float(hits[:k].sum() / hits.sum())
    return _collect(_per_query(relevance, scores, query_ids, k, min_relevant), one)


def expected_calibration_error(y_true: np.ndarray, prob: np.ndarray, n_bins: int = 10) -> float:
    """Expected calibration error with ``n_bins`` equal-width bins on [0, 1].

    ``ECE = Σ_b (n_b / n) · |mean(y in b) − mean(p in b)|``; a probability of exactly 1
    falls in the last bin. Lower is better; 0 is perfect.

    Raises
    ------
    ValueError
        When ``y_true`` is not 0/1, ``prob`` is outside [0, 1], lengths differ or ``n`` is 0.

    Examples
    --------
    >>> round(expected_calibration_error(np.array([0, 1, 1, 1]), np.array([0.2, 0.2, 0.9, 0.9])), 4)
    0.2
    """
    y = np.asarray(y_true, dtype="float64")
    p = np.asarray(prob, dtype="float64")
    if len(y) != len(p) or len(y) == 0:
        raise ValueError(f"y_true and prob must be non-empty and of equal length, got {len(y)} and {len(p)}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y_true must hold 0/1 labels")
    if np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("prob must lie in [0, 1]")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            total += m.sum() / len(y) * abs(y[m].mean() - p[m].mean())
    return float(total)
