"""History statistics read only events before the cut-off (no leakage)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features.history import attach_history, history_stats

CUT = dt.date(2022, 1, 1)
FAMILY = {"p1": "innovation", "p2": "relief"}


def _events(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 400
    return pd.DataFrame({
        "firm_id": [f"F{i}" for i in rng.integers(0, 50, n)],
        "policy_id": rng.choice(["p1", "p2"], n),
        "event_date": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D"),
        "outcome": rng.choice(["approved", "rejected", "applied"], n)})


def test_shuffling_future_events_does_not_change_features() -> None:
    ev = _events(0)
    future = ev["event_date"] >= pd.Timestamp(CUT)
    shuffled = ev.copy()
    rng = np.random.default_rng(1)
    for col in ("policy_id", "outcome"):
        shuffled.loc[future, col] = rng.permutation(shuffled.loc[future, col].to_numpy())
    pairs = pd.DataFrame({"policy_id": ["p1", "p2", "p3"], "policy_family": ["innovation", "relief", "relief"]})
    a = attach_history(pairs, history_stats(ev, CUT, FAMILY))
    b = attach_history(pairs, history_stats(shuffled, CUT, FAMILY))
    pd.testing.assert_frame_equal(a, b)
    # and the past does matter: shuffling past outcomes changes them
    past = shuffled.copy()
    past.loc[~future, "outcome"] = "approved"
    c = attach_history(pairs, history_stats(past, CUT, FAMILY))
    assert not a.equals(c)


def test_unseen_policy_gets_family_figures_and_nan_rate() -> None:
    pairs = pd.DataFrame({"policy_id": ["new"], "policy_family": ["relief"]})
    out = attach_history(pairs, history_stats(_events(0), CUT, FAMILY))
    assert out["policy_prior_applications"].tolist() == [0.0]
    assert np.isnan(out["policy_prior_approval_rate"].iloc[0])
    assert out["family_prior_applications"].iloc[0] > 0


def test_smoothed_rate_worked_example() -> None:
    ev = pd.DataFrame({"firm_id": ["a", "b", "c"], "policy_id": ["p1"] * 3,
                       "event_date": pd.to_datetime(["2021-03-01"] * 3),
                       "outcome": ["approved", "rejected", "applied"]})
    s = history_stats(ev, CUT, FAMILY)
    assert s.policy["p1"] == (3.0, (1 + 1) / (2 + 2))    # 1 approved of 2 decided, Beta(1,1)
