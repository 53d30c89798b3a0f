"""The policy sandbox: a reform (changes to the catalog, or a second catalog) run over a
registry, re-evaluating only the policies it touches — firms gained and lost, yuan cost, by
group (SPEC §9).

The names below are the package's public surface, imported lazily (PEP 562): importing
the package loads a module only when one of its names is first used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.reform.changes import (Change, Reform, changes_hash, parse_changes, read_changes,
                                            reform_from_catalog, reform_from_changes)
    from recommender.reform.report import render_report
    from recommender.reform.run import FIRMS, GROUPS, REJECTS, REPORT, SUMMARY, run_reform

_EXPORTS: dict[str, str] = {
    "Change": "changes",
    "FIRMS": "run",
    "GROUPS": "run",
    "REJECTS": "run",
    "REPORT": "run",
    "Reform": "changes",
    "SUMMARY": "run",
    "changes_hash": "changes",
    "parse_changes": "changes",
    "read_changes": "changes",
    "reform_from_catalog": "changes",
    "reform_from_changes": "changes",
    "render_report": "report",
    "run_reform": "run",
}
__all__ = [
    "Change", "FIRMS", "GROUPS", "REJECTS", "REPORT", "Reform", "SUMMARY", "changes_hash", "parse_changes",
    "read_changes", "reform_from_catalog", "reform_from_changes", "render_report", "run_reform"
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
