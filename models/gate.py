"""The baseline gate: ship the learned ranker only where out-of-time evidence says it wins.

``train`` fits every candidate on the windows before a validation period and scores each
on that period (per firm NDCG@10, relevant = approved). :func:`paired_bootstrap` resamples
firms with replacement — the same firms for both orders in each draw, so what is common to
both (how hard a firm is) cancels — and gives the interval of the mean difference.
:func:`decide` ships the learned ranker when the lower end of its interval against the best
baseline is above zero, and otherwise that baseline as the model (or, for a baseline with
no model format, the best of the shippable baselines and the learned ranker).

>>> a, b = np.array([0.9, 0.8, 0.7, 1.0]), np.array([0.5, 0.6, 0.4, 0.7])
>>> lo, hi = paired_bootstrap(a, b, draws=200, seed=0)
>>> bool(0 < lo <= hi)
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DRAWS = 1000
ALPHA = 0.05


def paired_bootstrap(a: np.ndarray, b: np.ndarray, *, draws: int = DRAWS, alpha: float = ALPHA,
                     seed: int = 0) -> tuple[float, float]:
    """``(lower, upper)`` of the ``1 − alpha`` percentile interval of ``mean(a − b)`` over
    firms resampled with replacement (``a``, ``b``: one value per firm, same firms)."""
    diff = np.asarray(a, dtype="float64") - np.asarray(b, dtype="float64")
    if diff.ndim != 1 or len(diff) == 0:
        raise ValueError("paired_bootstrap needs two equal-length, non-empty 1-d arrays")
    rng = np.random.default_rng(seed)
    means = np.empty(draws)
    for start in range(0, draws, 100):                  # 100 draws at a time: bounded memory
        n = min(100, draws - start)
        means[start:start + n] = diff[rng.integers(0, len(diff), (n, len(diff)))].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def mean_interval(values: np.ndarray, *, draws: int = DRAWS, alpha: float = ALPHA,
                  seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of a mean (one value per firm)."""
    return paired_bootstrap(values, np.zeros(len(values)), draws=draws, alpha=alpha, seed=seed)


@dataclass(frozen=True)
class GateDecision:
    """What the gate shipped and why, with every candidate's validation figures."""

    shipped: str
    learned: str
    best_baseline: str
    candidates: dict[str, dict[str, float]]
    difference: tuple[float, float, float]          # learned − best baseline: mean, lower, upper
    reason: str
    validation_window: tuple[str, str] = ("", "")
    firms: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready (NaN written as null)."""
        def clean(v: float) -> float | None:
            return None if v != v else v
        return {"shipped": self.shipped, "learned": self.learned, "best_baseline": self.best_baseline,
                "candidates": {n: {k: clean(v) for k, v in row.items()} for n, row in self.candidates.items()},
                "difference": {k: clean(v) for k, v in zip(("mean", "lower", "upper"), self.difference, strict=True)},
                "reason": self.reason, "validation_window": list(self.validation_window),
                "validation_firms": self.firms, **self.extra}


def decide(per_firm: Mapping[str, np.ndarray], *, learned: str, baselines: Sequence[str],
           shippable: Sequence[str], metric: str = "ndcg@10", draws: int = DRAWS, seed: int = 0,
           validation_window: tuple[str, str] = ("", "")) -> GateDecision:
    """Choose the model to ship from per-firm validation values of every candidate.

    Parameters
    ----------
    per_firm : mapping name → array
        One value per validation firm (same firms, same order) for each candidate.
    learned : str
        The learned ranker's name in ``per_firm``.
    baselines : sequence of str
        The baselines it must beat (every one is compared).
    shippable : sequence of str
        Baselines that can be shipped as the model when the learned ranker does not win.
    """
    names = [learned, *baselines]
    missing = [n for n in names if n not in per_firm]
    if missing:
        raise ValueError(f"no validation values for {missing}")
    candidates = {}
    for n in per_firm:
        values = np.asarray(per_firm[n], dtype="float64")
        lo, hi = mean_interval(values, draws=draws, seed=seed)
        candidates[n] = {metric: float(values.mean()), "lower": lo, "upper": hi}
    best = max(baselines, key=lambda n: candidates[n][metric])
    lo, hi = paired_bootstrap(per_firm[learned], per_firm[best], draws=draws, seed=seed)
    mean = candidates[learned][metric] - candidates[best][metric]
    n_firms = len(np.asarray(per_firm[learned]))
    if lo > 0:
        shipped = learned
        reason = (f"{learned} beats the best baseline {best} on {n_firms} validation firms: {metric} "
                  f"{candidates[learned][metric]:.4f} vs {candidates[best][metric]:.4f}, "
                  f"difference {mean:+.4f} (95 % interval {lo:+.4f} to {hi:+.4f})")
    else:
        # The best baseline when it can be shipped; when it cannot (no model format for it),
        # the best of the shippable ones and the learned ranker itself.
        pool = [best] if best in shippable else [*shippable, learned]
        shipped = max(pool, key=lambda n: candidates[n][metric])
        reason = (f"{learned} does not beat the best baseline {best} on {n_firms} validation firms "
                  f"({metric} {candidates[learned][metric]:.4f} vs {candidates[best][metric]:.4f}, "
                  f"difference {mean:+.4f}, 95 % interval {lo:+.4f} to {hi:+.4f}): shipping {shipped}")
        if shipped != best:
            reason += f" (the best of {', '.join(pool)}; {best} has no model format to ship)"
    return GateDecision(shipped, learned, best, candidates, (mean, lo, hi), reason, validation_window, n_firms)


__all__ = ["GateDecision", "decide", "mean_interval", "paired_bootstrap"]
