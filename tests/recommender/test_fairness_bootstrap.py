"""The vectorised percentile bootstrap: intervals that contain the true mean in simulation
(a share, a count, a skewed amount in yuan, on each of its paths), exact where it can be,
reproducible, and arguments refused by name."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.fairness import group_mean_cis
from recommender.fairness.bootstrap import DIRECT_MAX, multinomial


def coverage(draw, true: float, n: int, samples: int = 200, reps: int = 500) -> float:  # type: ignore[no-untyped-def]
    """Share of ``samples`` simulated samples of ``n`` whose 95 % interval holds ``true``."""
    rng = np.random.default_rng(2026)
    hits = 0
    for _ in range(samples):
        low, high = group_mean_cis(draw(rng, n), np.zeros(n, dtype=np.intp), 1, reps=reps, confidence=0.95,
                                   rng=rng)[0]
        hits += low <= true <= high
    return hits / samples


def test_share_interval_contains_the_true_rate() -> None:
    assert coverage(lambda rng, n: (rng.random(n) < 0.3).astype(float), 0.3, 200) >= 0.90


def test_count_interval_contains_the_true_mean() -> None:
    assert coverage(lambda rng, n: rng.poisson(3.0, n).astype(float), 3.0, 150) >= 0.90


@pytest.mark.parametrize("n", [400, 10_000])    # resampled directly / over blocks of sorted values
def test_skewed_amount_interval_contains_the_true_mean(n: int) -> None:
    assert (n <= DIRECT_MAX) == (n == 400)
    mean = float(np.exp(10 + 0.5))                # lognormal(10, 1): yuan, heavily skewed
    assert coverage(lambda rng, k: rng.lognormal(10, 1.0, k), mean, n) >= 0.90


def test_groups_get_their_own_interval_and_empty_groups_none() -> None:
    values = np.array([1.0] * 50 + [0.0] * 50 + [5.0] * 40)
    codes = np.array([0] * 100 + [2] * 40)
    cis = group_mean_cis(values, codes, 3, reps=300, confidence=0.95, rng=np.random.default_rng(0))
    assert 0.35 < cis[0, 0] < 0.5 < cis[0, 1] < 0.65
    assert np.isnan(cis[1]).all()
    assert cis[2].tolist() == [5.0, 5.0]           # one value: every resample has that mean


def test_units_outside_every_group_are_left_out() -> None:
    cis = group_mean_cis(np.array([1.0, 1.0, 0.0]), np.array([0, 0, -1]), 1, reps=50, confidence=0.9,
                         rng=np.random.default_rng(0))
    assert cis.tolist() == [[1.0, 1.0]]


def test_same_seed_same_interval() -> None:
    x = np.random.default_rng(1).lognormal(8, 2, 5000)
    codes = np.zeros(len(x), dtype=np.intp)
    a = group_mean_cis(x, codes, 1, reps=200, confidence=0.95, rng=np.random.default_rng(7))
    b = group_mean_cis(x, codes, 1, reps=200, confidence=0.95, rng=np.random.default_rng(7))
    assert a.tolist() == b.tolist()


def test_blocked_interval_agrees_with_plain_resampling() -> None:
    """At 20,000 skewed amounts the blocked bootstrap's ends are within 2 % of those of plain
    resampling (4,000 replicates each)."""
    rng = np.random.default_rng(3)
    x = rng.lognormal(10, 2.0, 20_000)
    blocked = group_mean_cis(x, np.zeros(len(x), dtype=np.intp), 1, reps=4000, confidence=0.95, rng=rng)[0]
    plain = np.quantile([x[rng.integers(0, len(x), len(x))].mean() for _ in range(4000)], [0.025, 0.975])
    assert blocked == pytest.approx(plain, rel=0.02)


def test_multinomial_counts_add_up_and_follow_the_shares() -> None:
    counts = multinomial(np.random.default_rng(0), 1000, np.array([0.5, 0.3, 0.2]), 2000)
    assert (counts.sum(axis=1) == 1000).all()
    assert counts.mean(axis=0) == pytest.approx([500, 300, 200], rel=0.01)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"values": np.array([1.0, np.nan])}, "values must be finite numbers; got NaN or infinity"),
    ({"codes": np.zeros(3, dtype=np.intp)}, r"values and codes must have the same length; got \(2,\) and \(3,\)"),
    ({"reps": 0}, "reps must be >= 1; got 0"),
    ({"confidence": 1.0}, "confidence must be strictly between 0 and 1; got 1.0"),
])
def test_bad_arguments_are_refused_by_name(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"values": np.array([1.0, 0.0]), "codes": np.zeros(2, dtype=np.intp), "n_groups": 1,
                               "reps": 10, "confidence": 0.95, "rng": np.random.default_rng(0)}
    with pytest.raises(ValueError, match=message):
        group_mean_cis(**{**args, **kwargs})  # type: ignore[arg-type]
