"""Group metrics of a match output, kept in four parts: what the **rules** decide
(eligibility), what the **ranking** adds (whether the eligible are recommended first), the
**result** firms see, and, with outcomes, what happened to their **applications**.

Every metric is a mean over units (firms, or decided applications): its value per group is
computed by fairlearn's :class:`~fairlearn.metrics.MetricFrame` from per-group sums and
counts (fed one row per group: fairlearn stacks its input row by row in Python, 12 s per
grouping at a million firms, and the mean of a group is the same from its sum and count),
its confidence interval by :func:`recommender.fairness.bootstrap.group_mean_cis`.

Disclosure: a group of fewer than ``min_group_size`` firms is *suppressed*: it is listed by
name with no figure at all, not even its number of firms. So that its figures cannot be
recovered from the overall ones minus the others, further groups are suppressed (smallest
first) until the suppressed groups of a column hold at least ``min_group_size`` firms
together. A figure whose own units are fewer than ``min_group_size`` (the firms with an
eligible policy of a group, its decided applications) is *withheld* (null, with the reason).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame

from recommender.fairness.bootstrap import group_mean_cis
from recommender.fairness.inputs import Applications, FirmTable, Grouping

PARTS = ("rules", "ranking", "result", "outcomes")


@dataclass(frozen=True)
class Metric:
    """A mean over units, reported by group: its part, unit, units and names."""

    name: str
    part: str        # one of PARTS
    unit: str        # "share" (0–1), "count", "yuan", "difference" (of two shares)
    over: str        # the units the mean is over, in words
    label_en: str
    label_zh: str

    def describe(self) -> dict[str, str]:
        return {"part": self.part, "unit": self.unit, "over": self.over, "label_en": self.label_en,
                "label_zh": self.label_zh}


METRICS: tuple[Metric, ...] = (
    Metric("eligible_share", "rules", "share", "firms", "share of firms with at least one eligible policy",
           "有可享政策的企业占比"),
    Metric("mean_eligible", "rules", "count", "firms", "mean number of eligible policies per firm",
           "户均可享政策数"),
    Metric("recommended_share", "ranking", "share", "firms with an eligible policy",
           "of firms with an eligible policy, share with one among the first k recommendations",
           "有可享政策的企业中，前k项推荐含可享政策的占比"),
    Metric("top_eligible_share", "result", "share", "firms", "share of firms whose top-ranked policy is eligible",
           "首位推荐为可享政策的企业占比"),
    Metric("mean_benefit", "result", "yuan", "firms",
           "mean estimated benefit of the eligible policies shown, per firm", "户均预计受益金额（元）"),
    Metric("approval_rate", "outcomes", "share", "decided applications", "approval rate of decided applications",
           "申请获批率"),
    Metric("calibration_gap", "outcomes", "difference", "decided applications with a predicted probability",
           "mean predicted approval probability minus observed approval rate", "预测获批概率减实际获批率"),
)
METRIC_NAMES = tuple(m.name for m in METRICS)


@dataclass(frozen=True)
class FairnessSettings:
    """How the figures are computed (recorded in the report)."""

    min_group_size: int = 30
    reps: int = 1000
    confidence: float = 0.95
    seed: int = 0


@dataclass(frozen=True)
class _Units:
    """One metric's units: their values and, per unit, the firm it belongs to."""

    values: np.ndarray
    firm: np.ndarray | None     # None: the units are the firms themselves


def metric_units(firms: FirmTable, apps: Applications | None) -> dict[str, _Units]:
    """The units and values of every metric (outcome metrics only with applications)."""
    has = firms.n_eligible > 0
    units = {
        "eligible_share": _Units(firms.has_eligible, None),
        "mean_eligible": _Units(firms.n_eligible, None),
        "recommended_share": _Units(firms.recommended[has], np.flatnonzero(has)),
        "top_eligible_share": _Units(firms.top_eligible, None),
        "mean_benefit": _Units(firms.benefit, None),
    }
    if apps is not None:
        predicted = ~np.isnan(apps.probability)
        units["approval_rate"] = _Units(apps.approved, apps.firm)
        units["calibration_gap"] = _Units(apps.probability[predicted] - apps.approved[predicted],
                                          apps.firm[predicted])
    return units


def suppressed_groups(firms_per_group: np.ndarray, min_group_size: int) -> np.ndarray:
    """Which groups to suppress (module docstring): those under ``min_group_size`` firms, then
    the smallest others until the suppressed ones hold ``min_group_size`` firms together (or
    every group is suppressed).

    >>> suppressed_groups(np.array([50, 10, 40, 100]), 30).tolist()
    [False, True, True, False]
    """
    hidden = firms_per_group < min_group_size
    for g in np.argsort(firms_per_group, kind="stable"):
        if not hidden.any() or firms_per_group[hidden].sum() >= min_group_size:
            break
        hidden[g] = True
    return hidden


def group_report(firms: FirmTable, apps: Applications | None, groups: dict[str, Grouping],
                 settings: FairnessSettings) -> dict[str, Any]:
    """``{"overall": …, "by_group": {column: [group, …]}}`` (shape in ``docs/api.md``)."""
    units = metric_units(firms, apps)
    overall_codes = {name: np.zeros(len(u.values), dtype=np.intp) for name, u in units.items()}
    overall = _figures(units, overall_codes, ["all"], np.array([firms.n]),
                       np.array([firms.n < settings.min_group_size]), settings, 0)[0]
    by_group = {}
    for d, (column, grouping) in enumerate(groups.items(), start=1):
        codes = {name: grouping.codes if u.firm is None else grouping.codes[u.firm] for name, u in units.items()}
        counts = np.bincount(grouping.codes, minlength=len(grouping.keys))
        hidden = suppressed_groups(counts, settings.min_group_size)
        rows = _figures(units, codes, list(grouping.keys), counts, hidden, settings, d)
        for row, label in zip(rows, grouping.labels):
            row["label"] = label
            if not row["suppressed"]:
                _against_overall(row, overall)
        by_group[column] = rows
    return {"overall": overall, "by_group": by_group}


def _figures(units: dict[str, _Units], codes: dict[str, np.ndarray], keys: list[str], firms: np.ndarray,
             hidden: np.ndarray, settings: FairnessSettings, stream: int) -> list[dict[str, Any]]:
    """Every metric of every group: the value from a MetricFrame, the bootstrap interval,
    the number of units; suppressed groups carry nothing but their key."""
    g = len(keys)
    sums = {n: np.bincount(codes[n], weights=u.values, minlength=g) for n, u in units.items()}
    ns = {n: np.bincount(codes[n], minlength=g) for n in units}
    frame = MetricFrame(metrics={n: _pooled_mean(sums[n], ns[n]) for n in units},
                        y_true=np.arange(g), y_pred=np.arange(g),
                        sensitive_features=pd.Series(keys, name="group"))
    values = frame.by_group
    rows: list[dict[str, Any]] = []
    cis = {}
    for m, name in enumerate(METRIC_NAMES):
        if name not in units:
            continue
        enough = ns[name] >= settings.min_group_size
        keep = np.array([not hidden[i] and enough[i] for i in range(g)])
        codes_kept = np.where(keep[codes[name]], codes[name], -1) if len(codes[name]) else codes[name]
        cis[name] = group_mean_cis(units[name].values, codes_kept, g, reps=settings.reps,
                                   confidence=settings.confidence,
                                   rng=np.random.default_rng([settings.seed, stream, m]))
    for i, key in enumerate(keys):
        if hidden[i]:
            rows.append({"group": key, "suppressed": True})
            continue
        row: dict[str, Any] = {"group": key, "suppressed": False, "firms": int(firms[i])}
        for metric in METRICS:
            if metric.name not in units:
                continue
            n = int(ns[metric.name][i])
            if n < settings.min_group_size:
                figure: dict[str, Any] = {"value": None, "ci": None, "n": None,
                                          "withheld": f"fewer than {settings.min_group_size} {metric.over}"}
            else:
                low, high = cis[metric.name][i]
                figure = {"value": float(values.loc[key, metric.name]), "ci": [float(low), float(high)], "n": n}
            row.setdefault(metric.part, {})[metric.name] = figure
        rows.append(row)
    return rows


def _pooled_mean(sums: np.ndarray, counts: np.ndarray) -> Callable[[np.ndarray, np.ndarray], float]:
    """A MetricFrame metric over rows that are groups: the mean of the units of the rows given."""
    def metric(rows: np.ndarray, _: np.ndarray) -> float:
        n = counts[rows].sum()
        return float(sums[rows].sum() / n) if n else float("nan")
    return metric


def _against_overall(row: dict[str, Any], overall: dict[str, Any]) -> None:
    """Each figure's difference (group − overall) and ratio (group / overall) to the overall
    figure, and the split of the gap in "an eligible policy among the first k" (= eligible
    share × recommended share) into the part the rules make and the part the ranking adds."""
    for part in PARTS:
        for name, figure in row.get(part, {}).items():
            base = overall.get(part, {}).get(name, {}).get("value")
            value = figure["value"]
            if value is None or base is None:
                figure["difference"] = figure["ratio"] = None
                continue
            figure["difference"] = value - base
            figure["ratio"] = value / base if base != 0 else None
    e_g = row.get("rules", {}).get("eligible_share", {}).get("value")
    r_g = row.get("ranking", {}).get("recommended_share", {}).get("value")
    e = overall["rules"]["eligible_share"]["value"]
    r = overall["ranking"]["recommended_share"]["value"]
    if None in (e_g, r_g, e, r):
        row["ranking"]["gap_split"] = None
        return
    row["ranking"]["gap_split"] = {"total": e_g * r_g - e * r, "from_rules": (e_g - e) * r,
                                   "from_ranking": e_g * (r_g - r)}
