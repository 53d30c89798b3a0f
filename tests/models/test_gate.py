"""The baseline gate: the paired bootstrap and the decision, on constructed per-firm values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.gate import decide, paired_bootstrap

RNG = np.random.default_rng(0)
BASE = RNG.uniform(0.3, 0.9, 400)
NOISE = RNG.normal(0, 0.05, 400)


def test_the_interval_covers_a_known_difference_and_excludes_zero() -> None:
    lo, hi = paired_bootstrap(BASE + 0.03 + NOISE, BASE, seed=1)
    assert lo > 0 and lo < 0.03 < hi


def test_pairing_cancels_what_firms_share() -> None:
    """A constant gain of 0.01 on firms whose values vary widely is certain when paired."""
    lo, hi = paired_bootstrap(BASE + 0.01, BASE)
    assert lo == pytest.approx(0.01) and hi == pytest.approx(0.01)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=60), st.integers(0, 10))
def test_the_interval_holds_the_observed_difference(values: list[float], seed: int) -> None:
    a = np.array(values)
    b = np.roll(a, 1)
    lo, hi = paired_bootstrap(a, b, draws=200, seed=seed)
    assert lo <= hi and -1 <= lo and hi <= 1
    assert lo - 1e-12 <= (a - b).max() and hi + 1e-12 >= (a - b).min()


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        paired_bootstrap(np.array([]), np.array([]))
    with pytest.raises(ValueError, match=r"no validation values for \['rules'\]"):
        decide({"lambdarank": BASE}, learned="lambdarank", baselines=["rules"], shippable=["rules"])


def _values(learned_gain: float, logistic_gain: float = -0.1) -> dict[str, np.ndarray]:
    return {"lambdarank": BASE + learned_gain + NOISE, "popularity": BASE, "rules": BASE - 0.05,
            "logistic": BASE + logistic_gain}


def test_the_learned_ranker_ships_when_it_wins_beyond_the_noise() -> None:
    d = decide(_values(0.03), learned="lambdarank", baselines=["popularity", "rules", "logistic"],
               shippable=["popularity", "rules", "logistic"])
    assert (d.shipped, d.best_baseline) == ("lambdarank", "popularity")
    assert d.difference[1] > 0 and d.reason.startswith("lambdarank beats the best baseline popularity")
    assert d.to_json()["candidates"]["popularity"]["ndcg@10"] == pytest.approx(BASE.mean())


@pytest.mark.parametrize("gain", [0.0, -0.02, 0.002])
def test_the_best_baseline_ships_when_the_learned_ranker_is_not_proven_better(gain: float) -> None:
    d = decide(_values(gain), learned="lambdarank", baselines=["popularity", "rules", "logistic"],
               shippable=["popularity", "rules", "logistic"])
    assert d.shipped == "popularity" and d.difference[1] <= 0
    assert "does not beat the best baseline popularity" in d.reason


def test_a_best_baseline_without_a_model_format_falls_back_to_the_best_shippable() -> None:
    values = _values(0.0, logistic_gain=0.01)           # logistic best, but not shippable here
    d = decide(values, learned="lambdarank", baselines=["popularity", "rules", "logistic"],
               shippable=["popularity", "rules"])
    assert d.best_baseline == "logistic"
    assert d.shipped == max(["popularity", "rules", "lambdarank"], key=lambda n: values[n].mean())
    assert "has no model format" in d.reason
