"""Fairness monitoring of a registry run (issue 22): by district, size class, ownership and
industry section, what the rules decide, what the ranking adds and, with outcomes, how
applications fared, each with a bootstrap interval, small groups suppressed.

The names below are the package's public surface, imported lazily (PEP 562): importing
the package loads a module only when one of its names is first used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.fairness.bootstrap import group_mean_cis
    from recommender.fairness.inputs import DIMENSIONS
    from recommender.fairness.metrics import METRICS, FairnessSettings, suppressed_groups
    from recommender.fairness.report import render_html
    from recommender.fairness.run import HTML_NAME, JSON_NAME, cached_fairness, fairness_report, write_fairness

_EXPORTS: dict[str, str] = {
    "DIMENSIONS": "inputs",
    "FairnessSettings": "metrics",
    "HTML_NAME": "run",
    "JSON_NAME": "run",
    "METRICS": "metrics",
    "cached_fairness": "run",
    "fairness_report": "run",
    "group_mean_cis": "bootstrap",
    "render_html": "report",
    "suppressed_groups": "metrics",
    "write_fairness": "run",
}
__all__ = [
    "DIMENSIONS", "FairnessSettings", "HTML_NAME", "JSON_NAME", "METRICS", "cached_fairness", "fairness_report",
    "group_mean_cis", "render_html", "suppressed_groups", "write_fairness"
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
