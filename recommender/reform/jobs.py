"""A reform run as a background job of the service: the request saved beside the uploaded
registry (``reform.json``), the run from it, and the cache key of its result.

The job runner runs a job whose folder holds ``reform.json`` with :func:`run_saved_reform`
instead of a match. Its files are ``<folder>/reform/`` (:func:`reform_result_dir`): the run's
``summary.json``, ``firms.parquet``, ``rejects.csv``, ``report.html`` and ``firms.csv`` (the
changed firms with every text cell through the formula guard). Results are cached by
(registry SHA-256, reform hash, catalog version, as-of): :func:`reform_cache_key`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from recommender.errors import CatalogError
from recommender.profile import ReferenceTables
from recommender.reform.changes import Reform, parse_changes, reform_from_changes
from recommender.reform.run import FIRMS, run_reform
from recommender.safe_cells import neutralise_frame

REQUEST = "reform.json"
RESULT_DIR = "reform"
REFORM_FIRMS_CSV = "firms.csv"


def reform_result_dir(folder: Path) -> Path:
    """Where a reform job's files are written."""
    return Path(folder) / RESULT_DIR


def is_reform_job(folder: Path) -> bool:
    return (Path(folder) / REQUEST).is_file()


def file_sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def reform_cache_key(registry_sha256: str, reform_hash: str, catalog_version: str, as_of: dt.date) -> str:
    """One text for (registry, reform, catalog, date): equal keys give equal results."""
    return hashlib.sha256(f"{registry_sha256}\0{reform_hash}\0{catalog_version}\0{as_of.isoformat()}".encode()).hexdigest()


def plan_reform(changes: Any, catalog_dir: Path, ref: ReferenceTables) -> Reform:
    """The reform ``changes`` (parsed JSON) make to the catalog under ``catalog_dir`` (raises
    :class:`~recommender.errors.CatalogError` naming the policy and path of a bad change)."""
    return reform_from_changes(catalog_dir, parse_changes(changes), ref)


def save_reform_request(folder: Path, changes: Any, reform: Reform, catalog_dir: Path, key: str) -> None:
    """Write ``reform.json``: what the runner needs to run the reform again."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / REQUEST).write_text(json.dumps({
        "changes": changes, "catalog_dir": str(catalog_dir), "catalog_version": reform.base.version,
        "reform_hash": reform.reform_hash, "reform_cache_key": key}, ensure_ascii=False), encoding="utf-8")


def saved_reform_request(folder: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((Path(folder) / REQUEST).read_text(encoding="utf-8"))
    return loaded


def run_saved_reform(folder: Path, registry: Path, *, ref: ReferenceTables, as_of: dt.date,
                     progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run the reform saved in ``folder`` over ``registry``; the summary (SPEC §9).

    Raises
    ------
    CatalogError
        The catalog changed since the request was accepted (its version differs).
    """
    request = saved_reform_request(folder)
    reform = reform_from_changes(Path(request["catalog_dir"]), parse_changes(request["changes"]), ref)
    if reform.base.version != request["catalog_version"]:
        raise CatalogError(f"the catalog changed since the reform was submitted ({request['catalog_version']} → "
                           f"{reform.base.version}); submit it again")
    out = reform_result_dir(folder)
    summary = run_reform(registry, out, reform=reform, ref=ref, as_of=as_of, threads=1, progress=progress)
    firms = neutralise_frame(pd.read_parquet(out / FIRMS))
    firms.to_csv(out / REFORM_FIRMS_CSV, index=False)
    return summary


def saved_reform_summary(folder: Path) -> dict[str, Any] | None:
    """The finished run's ``summary.json``, or ``None`` before it exists."""
    path = reform_result_dir(folder) / "summary.json"
    if not path.is_file():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded
