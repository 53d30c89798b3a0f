"""Statistics from the application history, computed from events strictly before a cut-off.

The cut-off is the only date that matters: an event dated on or after it is never read, so
shuffling or editing future events cannot change a feature (no leakage). Statistics are
keyed by policy (how often it was applied for and approved) and by family, so a policy never
seen before still gets its family's figures and NaN for its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from features import columns as C
from features.columns import EVENT_DATE, OUTCOME, POLICY_FAMILY, POLICY_ID

# Beta(1, 1) smoothing of approval rates: a policy with few decided applications is pulled
# towards 0.5 rather than reporting 0 % or 100 %.
_PRIOR = 1.0


@dataclass(frozen=True)
class HistoryStats:
    """Per-policy and per-family application counts and approval rates before ``cutoff``."""

    cutoff: dt.date
    policy: dict[str, tuple[float, float]]   # policy_id -> (applications, approval rate)
    family: dict[str, tuple[float, float]]   # family -> (applications, approval rate)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (stored beside a model artifact)."""
        return {"cutoff": self.cutoff.isoformat(),
                "policy": {k: list(v) for k, v in self.policy.items()},
                "family": {k: list(v) for k, v in self.family.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HistoryStats:
        """Inverse of :meth:`to_json`."""
        return cls(dt.date.fromisoformat(data["cutoff"]),
                   {k: (float(v[0]), float(v[1])) for k, v in data["policy"].items()},
                   {k: (float(v[0]), float(v[1])) for k, v in data["family"].items()})


def _rates(events: pd.DataFrame, key: str) -> dict[str, tuple[float, float]]:
    if events.empty:
        return {}
    g = events.groupby(key, sort=True)[OUTCOME]
    apps = g.size()
    approved = g.apply(lambda s: float((s == "approved").sum()))
    decided = g.apply(lambda s: float(s.isin(["approved", "rejected"]).sum()))
    rate = (approved + _PRIOR) / (decided + 2 * _PRIOR)
    return {str(k): (float(apps[k]), float(rate[k])) for k in apps.index}


def history_stats(events: pd.DataFrame, cutoff: dt.date, policy_family: Mapping[str, str],
                  lookback_days: int = 365) -> HistoryStats:
    """Statistics from ``events`` dated in ``[cutoff − lookback_days, cutoff)``.

    A fixed look-back keeps counts comparable between a training cut-off with little
    history and a serving cut-off with more.

    Parameters
    ----------
    events : DataFrame
        Interaction log with ``policy_id``, ``event_date`` (datetime64) and ``outcome``.
    cutoff : date
        First day *not* read.
    lookback_days : int, default 365
        Length of the window read before ``cutoff``.
    policy_family : mapping
        Family of each policy id; events of policies missing here only count for themselves.

    Returns
    -------
    HistoryStats
    """
    end = pd.Timestamp(cutoff)
    dates = events[EVENT_DATE]
    keep = (dates < end) & (dates >= end - pd.Timedelta(days=lookback_days))
    past = events.loc[keep, [POLICY_ID, OUTCOME]].copy()
    past[POLICY_FAMILY] = past[POLICY_ID].map(dict(policy_family)).astype(object)
    return HistoryStats(cutoff, _rates(past, POLICY_ID),
                        _rates(past.dropna(subset=[POLICY_FAMILY]), POLICY_FAMILY))


def attach_history(pairs: pd.DataFrame, stats: HistoryStats) -> pd.DataFrame:
    """Return ``pairs`` with the :data:`~features.columns.HISTORY_NUMERIC` columns added.

    A policy or family absent from the history gets 0 applications and a NaN rate.
    """
    out = pairs.copy()
    pol, fam = out[POLICY_ID].astype(str), out[POLICY_FAMILY].astype(str)
    for (apps_col, rate_col), table, keys in (((C.POLICY_PRIOR_APPLICATIONS, C.POLICY_PRIOR_APPROVAL_RATE),
                                                stats.policy, pol),
                                               ((C.FAMILY_PRIOR_APPLICATIONS, C.FAMILY_PRIOR_APPROVAL_RATE),
                                                stats.family, fam)):
        apps = {k: v[0] for k, v in table.items()}
        rate = {k: v[1] for k, v in table.items()}
        out[apps_col] = keys.map(apps).astype("float64").fillna(0.0)
        out[rate_col] = keys.map(rate).astype("float64")
    return out


__all__ = ["HistoryStats", "attach_history", "history_stats"]
