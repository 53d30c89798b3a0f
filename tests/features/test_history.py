"""History statistics read only events before the cut-off (no leakage)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features.history import HistoryStats, PolicySpan, attach_history, history_stats

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


def test_unseen_policy_in_force_gets_zero_counts_family_figures_and_nan_rate() -> None:
    pairs = pd.DataFrame({"policy_id": ["new"], "policy_family": ["relief"]})
    out = attach_history(pairs, history_stats(_events(0), CUT, FAMILY))
    assert out["policy_prior_applications"].tolist() == [0.0]          # observed: nobody applied
    assert out["policy_prior_approvals"].tolist() == [0.0]
    assert np.isnan(out["policy_prior_approval_rate"].iloc[0])         # nothing decided
    assert out["family_prior_applications"].iloc[0] > 0


def test_counts_and_smoothed_rate_worked_example() -> None:
    ev = pd.DataFrame({"firm_id": ["a", "b", "c"], "policy_id": ["p1"] * 3,
                       "event_date": pd.to_datetime(["2021-03-01"] * 3),
                       "outcome": ["approved", "rejected", "applied"]})
    s = history_stats(ev, CUT, FAMILY, observed_from=dt.date(2021, 1, 1))
    assert s.policy["p1"] == (3.0, 1.0, 2.0)                 # applications, approved, decided
    out = attach_history(pd.DataFrame({"policy_id": ["p1"], "policy_family": ["innovation"]}), s)
    assert out["policy_prior_applications"].tolist() == [3.0]           # a full observed year
    assert out["policy_prior_approvals"].tolist() == [1.0]
    assert out["policy_prior_approval_rate"].tolist() == [(1 + 1) / (2 + 2)]   # Beta(1, 1)


def _one_policy(n: int, day: str) -> pd.DataFrame:
    return pd.DataFrame({"firm_id": [f"f{i}" for i in range(n)], "policy_id": ["p1"] * n,
                         "event_date": pd.to_datetime([day] * n), "outcome": ["approved"] * n})


def test_counts_are_per_year_in_force() -> None:
    """A policy that opened 61 days before the cut-off with 100 applications: 100 × 365 / 61 a year."""
    stats = history_stats(_one_policy(100, "2021-12-01"), CUT, FAMILY, observed_from=dt.date(2020, 1, 1))
    pairs = pd.DataFrame({"policy_id": ["p1"], "policy_family": ["innovation"]})
    opened = {"p1": PolicySpan("innovation", dt.date(2021, 11, 1))}
    out = attach_history(pairs, stats, opened)
    assert out["policy_prior_applications"].iloc[0] == pytest.approx(100 * 365 / 61)
    assert out["policy_prior_approvals"].iloc[0] == pytest.approx(100 * 365 / 61)
    # the family's only member was in force 61 days: the same per-year figure
    assert out["family_prior_applications"].iloc[0] == pytest.approx(100 * 365 / 61)
    # in force all year: the plain count
    assert attach_history(pairs, stats, {"p1": PolicySpan("innovation", dt.date(2019, 1, 1))}
                          )["policy_prior_applications"].iloc[0] == pytest.approx(100.0)


@pytest.mark.parametrize(("valid_from", "valid_to", "days"), [
    (dt.date(2022, 1, 1), None, 0),                 # opens on the cut-off: nothing observable
    (dt.date(2021, 12, 31), None, 1),               # the last look-back day
    (None, dt.date(2020, 12, 31), 0),               # ended the day before the look-back
    (None, dt.date(2021, 1, 1), 1),                 # ended on its first day
    (dt.date(2021, 3, 1), dt.date(2021, 3, 31), 31),
])
def test_days_in_force_at_the_edges(valid_from: dt.date | None, valid_to: dt.date | None, days: int) -> None:
    assert PolicySpan("x", valid_from, valid_to).days_in(dt.date(2021, 1, 1), CUT) == days


def test_nothing_observable_is_unknown_not_zero() -> None:
    stats = history_stats(_one_policy(5, "2021-06-01"), CUT, FAMILY, observed_from=dt.date(2020, 1, 1))
    pairs = pd.DataFrame({"policy_id": ["p1", "later"], "policy_family": ["innovation", "relief"]})
    spans = {"p1": PolicySpan("innovation"), "later": PolicySpan("relief", dt.date(2022, 3, 1))}
    out = attach_history(pairs, stats, spans)
    assert out["policy_prior_applications"].iloc[0] == 5.0
    for col in ("policy_prior_applications", "policy_prior_approvals", "policy_prior_approval_rate",
                "family_prior_applications", "family_prior_approvals"):
        assert np.isnan(out[col].iloc[1]), col                   # not in force in the look-back


def test_the_logs_coverage_bounds_the_look_back() -> None:
    """A log that starts 2021-07-01: half a year observable, counts scaled to a year; a log
    that starts on the cut-off observes nothing."""
    ev = _one_policy(10, "2021-08-01")
    half = history_stats(ev, CUT, FAMILY, observed_from=dt.date(2021, 7, 1))
    assert half.window == (dt.date(2021, 7, 1), CUT)
    pairs = pd.DataFrame({"policy_id": ["p1"], "policy_family": ["innovation"]})
    assert attach_history(pairs, half)["policy_prior_applications"].iloc[0] == pytest.approx(10 * 365 / 184)
    none = history_stats(ev, CUT, FAMILY, observed_from=CUT)
    assert np.isnan(attach_history(pairs, none)["policy_prior_applications"].iloc[0])
    # by default the log covers from its first event
    assert history_stats(ev, CUT, FAMILY).observed_from == dt.date(2021, 8, 1)


def test_stats_round_trip_through_json_and_refuse_the_old_format() -> None:
    s = history_stats(_events(0), CUT, FAMILY)
    assert HistoryStats.from_json(s.to_json()) == s
    old = {"cutoff": "2022-01-01", "policy": {"p1": [3.0, 0.5]}, "family": {}}
    with pytest.raises(ValueError, match="retrain"):
        HistoryStats.from_json(old)
