"""Statistics from the application history, computed from events strictly before a cut-off.

The cut-off is the only date that matters: an event dated on or after it is never read, so
shuffling or editing future events cannot change a feature (no leakage). Statistics are
keyed by policy (how often it was applied for and approved) and by family, so a policy never
seen before still gets its family's figures.

The same figure must mean the same thing in training and at serving (issue 21):

* **Exposure.** Counts are per 365 days *in force* within the observable look-back: a policy
  that opened two months before the cut-off and drew 100 applications gets 100 × 365 / 61,
  not 100 next to a year-old policy's full-year count. Family counts are per 365 policy-days
  in force of the family's policies.
* **Unknown is not zero.** A policy not in force at any time in the observable look-back
  (new, or the log does not reach back that far) gets NaN counts and rate: nothing could be
  observed. A policy in force but never applied for gets 0 applications (observed) and a NaN
  rate (no decided application). The log's coverage (``observed_from``: its first day) bounds
  the observable look-back.

Policy validity comes from the catalog as :class:`PolicySpan` values (the domain passes them;
this layer does not know the catalog). Without spans every policy counts as in force
throughout the observable look-back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features import columns as C
from features.columns import EVENT_DATE, OUTCOME, POLICY_FAMILY, POLICY_ID

_PRIOR = 1.0
"""Beta(1, 1) smoothing of approval rates: a policy with few decided applications is pulled
towards 0.5 rather than reporting 0 % or 100 %."""
LOOKBACK_DAYS = 365
YEAR_DAYS = 365.0


@dataclass(frozen=True)
class PolicySpan:
    """When a policy is in force: ``valid_from`` to ``valid_to`` inclusive (None: open)."""

    family: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def days_in(self, start: dt.date, end: dt.date) -> int:
        """Days of ``[start, end)`` on which the policy is in force."""
        lo = start if self.valid_from is None else max(start, self.valid_from)
        hi = end if self.valid_to is None else min(end, self.valid_to + dt.timedelta(days=1))
        return max(0, (hi - lo).days)


Counts = tuple[float, float, float]
"""(applications, approved, decided) in the look-back."""


@dataclass(frozen=True)
class HistoryStats:
    """Per-policy and per-family counts in the observable look-back before ``cutoff``."""

    cutoff: dt.date
    policy: dict[str, Counts]
    family: dict[str, Counts]
    lookback_days: int = LOOKBACK_DAYS
    observed_from: dt.date | None = None

    @property
    def window(self) -> tuple[dt.date, dt.date]:
        """The observable look-back ``[start, cutoff)`` (empty when the log starts later)."""
        start = self.cutoff - dt.timedelta(days=self.lookback_days)
        if self.observed_from is not None:
            start = max(start, self.observed_from)
        return min(start, self.cutoff), self.cutoff

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (stored beside a model artifact)."""
        return {"cutoff": self.cutoff.isoformat(), "lookback_days": self.lookback_days,
                "observed_from": None if self.observed_from is None else self.observed_from.isoformat(),
                "policy": {k: list(v) for k, v in self.policy.items()},
                "family": {k: list(v) for k, v in self.family.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HistoryStats:
        """Inverse of :meth:`to_json`."""
        def counts(table: Mapping[str, Any]) -> dict[str, Counts]:
            out: dict[str, Counts] = {}
            for k, v in table.items():
                if len(v) != 3:
                    raise ValueError(f"history entry {k!r} has {len(v)} values, expected 3 (a model "
                                     "trained before issue 21: retrain it)")
                out[k] = (float(v[0]), float(v[1]), float(v[2]))
            return out
        seen = data.get("observed_from")
        return cls(dt.date.fromisoformat(data["cutoff"]), counts(data["policy"]), counts(data["family"]),
                   int(data.get("lookback_days", LOOKBACK_DAYS)),
                   None if seen is None else dt.date.fromisoformat(seen))


def _counts(events: pd.DataFrame, key: str) -> dict[str, Counts]:
    if events.empty:
        return {}
    outcome = events[OUTCOME]
    frame = pd.DataFrame({key: events[key], "n": 1.0, "ok": (outcome == "approved").astype(float),
                          "dec": outcome.isin(["approved", "rejected"]).astype(float)})
    g = frame.groupby(key, sort=True)[["n", "ok", "dec"]].sum()
    return {str(k): (float(r.n), float(r.ok), float(r.dec)) for k, r in g.iterrows()}


def history_stats(events: pd.DataFrame, cutoff: dt.date, policy_family: Mapping[str, str] | None = None,
                  lookback_days: int = LOOKBACK_DAYS, observed_from: dt.date | None = None) -> HistoryStats:
    """Counts from ``events`` dated in the observable look-back ``[cutoff − lookback_days, cutoff)``.

    A fixed look-back keeps counts comparable between a training cut-off with little
    history and a serving cut-off with more.

    Parameters
    ----------
    events : DataFrame
        Interaction log with ``policy_id``, ``event_date`` (datetime64) and ``outcome``.
    cutoff : date
        First day *not* read.
    policy_family : mapping
        Family of each policy id; events of policies missing here only count for themselves.
    lookback_days : int, default 365
    observed_from : date, optional
        First day the log covers (default: the date of its first event; nothing before it
        is observable).
    """
    if observed_from is None and len(events):
        observed_from = pd.Timestamp(events[EVENT_DATE].min()).date()
    stats = HistoryStats(cutoff, {}, {}, lookback_days, observed_from)
    start, end = stats.window
    dates = events[EVENT_DATE]
    keep = (dates < pd.Timestamp(end)) & (dates >= pd.Timestamp(start))
    past = events.loc[keep, [POLICY_ID, OUTCOME]].copy()
    past[POLICY_FAMILY] = past[POLICY_ID].map(dict(policy_family or {})).astype(object)
    return HistoryStats(cutoff, _counts(past, POLICY_ID), _counts(past.dropna(subset=[POLICY_FAMILY]), POLICY_FAMILY),
                        lookback_days, observed_from)


def _per_year(count: np.ndarray, days: np.ndarray) -> np.ndarray:
    out = np.full(len(count), np.nan)
    np.divide(count * YEAR_DAYS, days, out=out, where=days > 0)
    return out


def _rate(approved: np.ndarray, decided: np.ndarray, days: np.ndarray) -> np.ndarray:
    return np.where((days > 0) & (decided > 0), (approved + _PRIOR) / (decided + 2 * _PRIOR), np.nan)


def attach_history(pairs: pd.DataFrame, stats: HistoryStats,
                   spans: Mapping[str, PolicySpan] | None = None) -> pd.DataFrame:
    """Return ``pairs`` with the :data:`~features.columns.HISTORY_NUMERIC` columns added.

    ``spans`` gives each policy's family and validity (the catalog's); a policy absent from
    ``spans`` counts as in force throughout. See the module text for what each figure means.
    """
    out = pairs.copy()
    start, end = stats.window
    observable = (end - start).days
    pol = out[POLICY_ID].astype(str).to_numpy()
    fam = out[POLICY_FAMILY].astype(str).to_numpy()
    spans = spans or {}

    def policy_days(p: str) -> int:
        span = spans.get(p)
        return observable if span is None else span.days_in(start, end)

    family_days: dict[str, int] = {}
    for p, span in spans.items():
        family_days[span.family] = family_days.get(span.family, 0) + span.days_in(start, end)
    zero: Counts = (0.0, 0.0, 0.0)
    for (apps_col, ok_col, rate_col), table, keys, days_of in (
            ((C.POLICY_PRIOR_APPLICATIONS, C.POLICY_PRIOR_APPROVALS, C.POLICY_PRIOR_APPROVAL_RATE),
             stats.policy, pol, policy_days),
            ((C.FAMILY_PRIOR_APPLICATIONS, C.FAMILY_PRIOR_APPROVALS, C.FAMILY_PRIOR_APPROVAL_RATE),
             stats.family, fam, lambda f: family_days.get(f, observable) if spans else observable)):
        uniq, inverse = np.unique(keys, return_inverse=True)
        counts = np.array([table.get(k, zero) for k in uniq], dtype="float64").reshape(-1, 3)
        days = np.array([days_of(k) for k in uniq], dtype="float64")
        out[apps_col] = _per_year(counts[:, 0], days)[inverse]
        out[ok_col] = _per_year(counts[:, 1], days)[inverse]
        out[rate_col] = _rate(counts[:, 1], counts[:, 2], days)[inverse]
    return out


__all__ = ["HistoryStats", "PolicySpan", "attach_history", "history_stats"]
