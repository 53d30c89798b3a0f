"""A fairness report from files: read, compute, write ``fairness.json`` and ``report.html``
(written to temporaries and renamed, so a reader never sees half a report), and the cached
form a finished job uses (computed once, kept in the job's directory)."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from recommender.errors import InputFileError
from recommender.fairness.inputs import DIMENSIONS, read_applications, read_groups, read_matches
from recommender.fairness.metrics import METRICS, FairnessSettings, group_report
from recommender.fairness.report import render_html
from recommender.profile import ReferenceTables

JSON_NAME = "fairness.json"
HTML_NAME = "report.html"
REPORT_VERSION = 1
"""Bumped when the figures or the shape change: a cached report of another version is redone."""


def fairness_report(matches: Path, registry: Path, ref: ReferenceTables, *, outcomes: Path | None = None,
                    settings: FairnessSettings = FairnessSettings(), rank_k: int = 1) -> dict[str, Any]:
    """The report of one ``match-registry`` output (shape in ``docs/api.md``).

    Parameters
    ----------
    matches
        The output (CSV or Parquet) of ``recommender match-registry`` or of a job.
    registry
        The registry it was made from (CSV, Parquet or XLSX): each firm's groups.
    ref
        Reference tables (district and industry names, the size standard).
    outcomes
        Optional SPEC §7 interactions file: approval rate and calibration gap.
    settings
        Minimum group size, bootstrap replicates, confidence level, seed.
    rank_k
        The ranking part asks whether an eligible policy is among the first ``rank_k``
        recommendations (default 1: the top one).

    Raises
    ------
    InputFileError
        Naming the file and the column at fault.
    ValueError
        A setting out of range, naming it.
    """
    _check(settings, rank_k)
    firms, pairs = read_matches(Path(matches), rank_k)
    groups, not_matched = read_groups(Path(registry), firms, ref)
    apps = read_applications(Path(outcomes), firms, pairs) if outcomes is not None else None
    figures = group_report(firms, apps, groups, settings)
    metrics = {m.name: m.describe() for m in METRICS if apps is not None or m.part != "outcomes"}
    return {
        "kind": "fairness", "version": REPORT_VERSION,
        "inputs": {
            "matches": Path(matches).name, "registry": Path(registry).name,
            "outcomes": None if outcomes is None else Path(outcomes).name,
            "match_rows": firms.match_rows, "firms": firms.n, "registry_firms_not_matched": not_matched,
            "shown_per_firm": firms.shown_max, "firms_with_full_lists": firms.full_lists,
            "applications": None if apps is None else {
                "rows_read": apps.rows_read, "decided": len(apps.firm), "undecided": apps.undecided,
                "other_firms": apps.other_firms,
                "with_prediction": int((apps.probability == apps.probability).sum())},
        },
        "method": _method(settings, rank_k),
        "metrics": metrics,
        "groupings": {name: {"label_en": en, "label_zh": zh} for name, (en, zh) in DIMENSIONS.items()},
        **figures,
    }


def write_fairness(out: Path, matches: Path, registry: Path, ref: ReferenceTables, *,
                   outcomes: Path | None = None, settings: FairnessSettings = FairnessSettings(), rank_k: int = 1) -> dict[str, Any]:
    """:func:`fairness_report` written to ``out/fairness.json`` and ``out/report.html``;
    returns the report."""
    report = fairness_report(matches, registry, ref, outcomes=outcomes, settings=settings, rank_k=rank_k)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _replace(out / HTML_NAME, render_html(report))
    _replace(out / JSON_NAME, json.dumps(report, ensure_ascii=False, indent=1))
    return report


def cached_fairness(out: Path, matches: Path, registry: Path, ref: ReferenceTables, *,
                    settings: FairnessSettings = FairnessSettings(), rank_k: int = 1) -> tuple[Path, Path]:
    """``(fairness.json, report.html)`` under ``out`` for ``matches`` (a finished job's output,
    which no longer changes): computed on the first call, read back afterwards unless made
    with other settings or by another report version."""
    paths = Path(out) / JSON_NAME, Path(out) / HTML_NAME
    if all(p.exists() for p in paths):
        try:
            made = json.loads(paths[0].read_text(encoding="utf-8"))
        except (OSError, ValueError):
            made = None
        if isinstance(made, dict) and made.get("version") == REPORT_VERSION \
                and made.get("method") == _method(settings, rank_k):
            return paths
    write_fairness(out, matches, registry, ref, settings=settings, rank_k=rank_k)
    return paths


def _method(settings: FairnessSettings, rank_k: int) -> dict[str, Any]:
    s = asdict(settings)
    return {"min_group_size": s["min_group_size"], "bootstrap_reps": s["reps"], "confidence": s["confidence"],
            "seed": s["seed"], "rank_k": rank_k, "interval": "percentile bootstrap"}


def _check(settings: FairnessSettings, rank_k: int) -> None:
    if settings.min_group_size < 1:
        raise ValueError(f"min_group_size must be >= 1; got {settings.min_group_size}")
    if settings.reps < 1:
        raise ValueError(f"reps must be >= 1; got {settings.reps}")
    if not 0.0 < settings.confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1; got {settings.confidence}")
    if rank_k < 1:
        raise ValueError(f"rank_k must be >= 1; got {rank_k}")


def _replace(path: Path, text: str) -> None:
    """Write ``text`` beside ``path`` and rename it into place (atomic on one file system)."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")    # two requests may write at once
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as err:
        temporary.unlink(missing_ok=True)
        raise InputFileError(f"cannot write the report: {err}", path=str(path)) from None
