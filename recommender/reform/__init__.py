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
    from recommender.reform.jobs import (REFORM_FIRMS_CSV, reform_cache_key, file_sha256, is_reform_job, plan_reform,
                                         reform_result_dir, run_saved_reform, save_reform_request, saved_reform_request,
                                         saved_reform_summary)
    from recommender.reform.report import render_report
    from recommender.reform.run import FIRMS, GROUPS, REJECTS, REPORT, SUMMARY, run_reform

_EXPORTS: dict[str, str] = {
    "Change": "changes",
    "FIRMS": "run",
    "GROUPS": "run",
    "REFORM_FIRMS_CSV": "jobs",
    "REJECTS": "run",
    "REPORT": "run",
    "Reform": "changes",
    "SUMMARY": "run",
    "changes_hash": "changes",
    "file_sha256": "jobs",
    "is_reform_job": "jobs",
    "parse_changes": "changes",
    "plan_reform": "jobs",
    "read_changes": "changes",
    "reform_cache_key": "jobs",
    "reform_from_catalog": "changes",
    "reform_from_changes": "changes",
    "reform_result_dir": "jobs",
    "render_report": "report",
    "run_reform": "run",
    "run_saved_reform": "jobs",
    "save_reform_request": "jobs",
    "saved_reform_request": "jobs",
    "saved_reform_summary": "jobs",
}
__all__ = [
    "Change", "FIRMS", "GROUPS", "REFORM_FIRMS_CSV", "REJECTS", "REPORT", "Reform", "SUMMARY",
    "changes_hash", "file_sha256", "is_reform_job", "parse_changes", "plan_reform", "read_changes",
    "reform_cache_key", "reform_from_catalog", "reform_from_changes", "reform_result_dir",
    "render_report", "run_reform", "run_saved_reform", "save_reform_request",
    "saved_reform_request", "saved_reform_summary"
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
