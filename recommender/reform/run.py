"""A reform over a registry: the touched policies evaluated before and after, firm by firm.

The registry is read, validated and de-duplicated by the same reader and rules as
``match-registry`` (:func:`recommender.profile.iter_raw_chunks`, ``validate_chunk``,
``drop_duplicate_ids``): a row rejected there is rejected here, with the same row number,
field and reason. Each chunk is evaluated by one pure function (:func:`reform_chunk`) against
the *touched* policies only — of the baseline catalog and of the reformed one — on threads of
this process (the local engine, as ``match-registry``'s chunk threads) or as tasks of a Dask
cluster; the main thread takes the results in chunk order, drops ids an earlier chunk had and
adds them up. A policy absent from one side (added or removed) is ``ineligible`` there with no
benefit.

``OUT/summary.json`` (SPEC §9), ``OUT/firms.parquet`` (every (firm, policy) whose verdict or
estimated benefit changed), ``OUT/rejects.csv`` (as ``match-registry``) and ``OUT/report.html``
(:mod:`recommender.reform.report`). A run first removes the previous run's files; the summary
is written last.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from recommender.bulk import disk_errors
from recommender.engine import VERDICTS, benefit_matrix, evaluate_catalog
from recommender.errors import InputFileError
from recommender.facts import EvalFrame
from recommender.profile import (REJECT_COLUMNS, Chunk, ReferenceTables, drop_duplicate_ids, iter_raw_chunks,
                                 validate_chunk)
from recommender.reform.changes import Reform
from recommender.rules import Policy
from recommender.safe_cells import neutralise_frame

GROUPS: tuple[str, ...] = ("region_code", "size_class", "ownership", "industry_section")
"""The groups of ``by_group`` (SPEC §9)."""
UNKNOWN = "unknown"
"""The group of a firm whose value is not known."""
SUMMARY, FIRMS, REJECTS, REPORT = "summary.json", "firms.parquet", "rejects.csv", "report.html"
FIRMS_SCHEMA = pa.schema([("firm_id", pa.string()), ("policy_id", pa.string()),
                          ("verdict_before", pa.string()), ("verdict_after", pa.string()),
                          ("benefit_before", pa.float64()), ("benefit_after", pa.float64())])
DEFAULT_CHUNK_ROWS = 50_000
Progress = Callable[[int, int], None]
_ELIGIBLE, _INELIGIBLE = VERDICTS.index("eligible"), VERDICTS.index("ineligible")


@dataclass
class ChunkOutcome:
    """One chunk's validated rows and, per firm and touched policy, verdict and benefit on
    both sides (``(firms, policies)`` arrays, policies in the reform's ``touched`` order)."""

    chunk: Chunk                   # valid: firm_id, _row and the GROUPS columns
    verdict_before: np.ndarray     # int8 codes of VERDICTS
    verdict_after: np.ndarray
    benefit_before: np.ndarray     # yuan, NaN where unknown or not estimable
    benefit_after: np.ndarray


def _side(policies: list[Policy | None], valid: pd.DataFrame, as_of: dt.date,
          ref: ReferenceTables) -> tuple[np.ndarray, np.ndarray, Any]:
    """Verdict codes and point benefits of ``policies`` (``None``: absent, ineligible, no benefit)."""
    n, k = len(valid), len(policies)
    verdict = np.full((n, k), _INELIGIBLE, dtype=np.int8)
    benefit = np.full((n, k), np.nan)
    present = [p for p in policies if p is not None]
    if not present or n == 0:
        return verdict, benefit, None
    elig = evaluate_catalog(present, valid, as_of, ref)
    low, high = benefit_matrix(elig)
    cols = [i for i, p in enumerate(policies) if p is not None]
    verdict[:, cols] = elig.verdict_matrix()
    benefit[:, cols] = np.where(np.isnan(low), np.nan, (low + high) / 2)   # as match-registry's estimated_benefit
    return verdict, benefit, elig.frame


def _groups(valid: pd.DataFrame, frame: Any) -> dict[str, np.ndarray]:
    """The group of every firm in each of :data:`GROUPS` (text; :data:`UNKNOWN` when unknown)."""
    def text(values: pd.Series) -> np.ndarray:
        values = values.astype(object)
        return values.where(values.notna(), UNKNOWN).to_numpy(dtype=object)
    codes, labels = frame.factorized("size_class")
    size = np.append(np.asarray(labels, dtype=object), UNKNOWN)[codes]       # code -1: unknown
    return {"region_code": text(valid["region_code"]), "size_class": size, "ownership": text(valid["ownership"]),
            "industry_section": text(valid["industry_code"].astype(object).str[0])}


def reform_chunk(raw: pd.DataFrame, first_row: int, setup: dict[str, Any]) -> ChunkOutcome:
    """Validate one raw chunk (ids repeated inside it rejected) and evaluate the touched
    policies of both catalogs for its firms. Pure: the unit of work of a thread or a task."""
    reform: Reform = setup["reform"]
    ref: ReferenceTables = setup["ref"]
    chunk = drop_duplicate_ids(validate_chunk(raw, first_row, ref, allow_unknown_columns=setup["allow"]), set())
    valid = chunk.valid
    base = {p.id: p for p in reform.base if p.id in reform.touched}
    after = {p.id: p for p in reform.reformed if p.id in reform.touched}
    vb, bb, frame_b = _side([base.get(pid) for pid in reform.touched], valid, setup["as_of"], ref)
    va, ba, frame_a = _side([after.get(pid) for pid in reform.touched], valid, setup["as_of"], ref)
    frame = frame_b if frame_b is not None else frame_a
    if frame is None:                       # nothing evaluated (no touched policy): the groups still count
        frame = EvalFrame.from_profiles(valid, setup["as_of"], ref)
    light = valid[["firm_id", "_row"]].copy()
    for name, values in _groups(valid, frame).items():
        light[name] = values
    return ChunkOutcome(Chunk(light, chunk.rejects, chunk.rows_read), vb, va, bb, ba)


@dataclass
class Tally:
    """The run's sums, added chunk by chunk (in chunk order, after duplicates are dropped)."""

    touched: tuple[str, ...]
    firms: int = 0
    rows_read: int = 0
    rejected_rows: set[int] = field(default_factory=set)
    counts: np.ndarray = field(init=False)           # (2 sides, policies, 3 verdicts)
    moves: np.ndarray = field(init=False)            # (policies, 3 before, 3 after)
    cost: np.ndarray = field(init=False)             # (2 sides, policies) yuan
    groups: dict[str, dict[str, np.ndarray]] = field(default_factory=lambda: {g: {} for g in GROUPS})

    def __post_init__(self) -> None:
        k = len(self.touched)
        self.counts = np.zeros((2, k, 3), dtype=np.int64)
        self.moves = np.zeros((k, 3, 3), dtype=np.int64)
        self.cost = np.zeros((2, k))

    def add(self, out: ChunkOutcome, keep: np.ndarray) -> pa.Table:
        """Add the kept firms of one chunk; returns their changed (firm, policy) rows."""
        vb, va = out.verdict_before[keep], out.verdict_after[keep]
        bb, ba = out.benefit_before[keep], out.benefit_after[keep]
        light = out.chunk.valid[keep]
        self.firms += int(keep.sum())
        for i in range(len(self.touched)):
            self.counts[0, i] += np.bincount(vb[:, i], minlength=3)
            self.counts[1, i] += np.bincount(va[:, i], minlength=3)
            self.moves[i] += np.bincount(vb[:, i].astype(np.int64) * 3 + va[:, i], minlength=9).reshape(3, 3)
        paid_b = np.where((vb == _ELIGIBLE) & ~np.isnan(bb), bb, 0.0)
        paid_a = np.where((va == _ELIGIBLE) & ~np.isnan(ba), ba, 0.0)
        self.cost[0] += paid_b.sum(axis=0)
        self.cost[1] += paid_a.sum(axis=0)
        gained = ((vb == _INELIGIBLE) & (va != _INELIGIBLE)).any(axis=1)
        lost = ((vb != _INELIGIBLE) & (va == _INELIGIBLE)).any(axis=1)
        delta = (paid_a - paid_b).sum(axis=1)
        stats = np.stack([np.ones(len(vb)), gained, lost, delta], axis=1)
        for name in GROUPS:
            codes, keys = pd.factorize(light[name].to_numpy(dtype=object))    # hashing: no sort of the texts
            sums = np.stack([np.bincount(codes, weights=stats[:, j], minlength=len(keys)) for j in range(4)], axis=1)
            bucket = self.groups[name]
            for key, row in zip(map(str, keys), sums):
                bucket[key] = bucket[key] + row if key in bucket else row
        changed = (vb != va) | ~((bb == ba) | (np.isnan(bb) & np.isnan(ba)))
        rows, cols = np.nonzero(changed)
        names = np.array(VERDICTS, dtype=object)
        return pa.table({
            "firm_id": pa.array(light["firm_id"].to_numpy(dtype=object)[rows], type=pa.string()),
            "policy_id": pa.array(np.array(self.touched, dtype=object)[cols], type=pa.string()),
            "verdict_before": pa.array(names[vb[rows, cols]], type=pa.string()),
            "verdict_after": pa.array(names[va[rows, cols]], type=pa.string()),
            "benefit_before": pa.array(bb[rows, cols], type=pa.float64(), from_pandas=True),
            "benefit_after": pa.array(ba[rows, cols], type=pa.float64(), from_pandas=True),
        }, schema=FIRMS_SCHEMA)

    def summary(self, reform: Reform, as_of: dt.date) -> dict[str, Any]:
        """``summary.json`` (SPEC §9)."""
        policies = {}
        for i, pid in enumerate(self.touched):
            policies[pid] = {
                "before": {v: int(self.counts[0, i, j]) for j, v in enumerate(VERDICTS)},
                "after": {v: int(self.counts[1, i, j]) for j, v in enumerate(VERDICTS)},
                "transitions": {f"{a}->{b}": int(self.moves[i, ia, ib])
                                for ia, a in enumerate(VERDICTS) for ib, b in enumerate(VERDICTS)},
                "cost_before": round(float(self.cost[0, i]), 2), "cost_after": round(float(self.cost[1, i]), 2),
            }
        by_group = {name: {key: {"firms": int(row[0]), "gained": int(row[1]), "lost": int(row[2]),
                                 "cost_delta": round(float(row[3]), 2)}
                           for key, row in sorted(self.groups[name].items())} for name in GROUPS}
        return {"reform_hash": reform.reform_hash, "catalog_version": reform.base.version,
                "reform_catalog_version": reform.reformed.version, "as_of": as_of.isoformat(),
                "rows_read": self.rows_read, "firms": self.firms, "rows_rejected": len(self.rejected_rows),
                "policies": policies, "by_group": by_group}


def _local(chunks: Iterator[tuple[pd.DataFrame, int]], setup: dict[str, Any], threads: int) -> Iterator[ChunkOutcome]:
    """Chunk outcomes in chunk order, ``threads`` chunks evaluated at a time in this process."""
    if threads <= 1:
        for raw, first in chunks:
            yield reform_chunk(raw, first, setup)
        return
    pending: deque[Future[ChunkOutcome]] = deque()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="reform") as pool:
        for raw, first in chunks:
            pending.append(pool.submit(reform_chunk, raw, first, setup))
            while len(pending) > threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _dask(chunks: Iterator[tuple[pd.DataFrame, int]], setup: dict[str, Any], scheduler: str | None,
          n_workers: int) -> Iterator[ChunkOutcome]:
    """Chunk outcomes in chunk order, each chunk a task of a Dask cluster (``scheduler``, or a
    ``LocalCluster`` of ``n_workers`` threads): the client reads the registry and sends chunks."""
    from dask.distributed import Client, LocalCluster

    cluster = None if scheduler else LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=False,  # type: ignore[no-untyped-call]  # dask is untyped
                                                  dashboard_address=":0")
    try:
        with Client(scheduler or cluster) as client:  # type: ignore[no-untyped-call]  # dask is untyped
            shared = client.scatter([setup], broadcast=True)[0]
            pending: deque[Any] = deque()
            for raw, first in chunks:
                pending.append(client.submit(reform_chunk, raw, first, shared, pure=False))
                while len(pending) > 2 * n_workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
    finally:
        if cluster is not None:
            cluster.close()


def _numbered(registry: Path, chunk_rows: int) -> Iterator[tuple[pd.DataFrame, int]]:
    first = 1
    for raw in iter_raw_chunks(registry, chunk_rows):
        yield raw, first
        first += len(raw)


def clear_previous(out_dir: Path) -> None:
    """Remove the files an earlier run left in ``out_dir`` (the summary first)."""
    for name in (SUMMARY, FIRMS, REJECTS, REPORT):
        (out_dir / name).unlink(missing_ok=True)


def run_reform(registry: Path, out_dir: Path, *, reform: Reform, ref: ReferenceTables, as_of: dt.date,
               chunk_rows: int = DEFAULT_CHUNK_ROWS, engine: str = "local", threads: int | None = None,
               scheduler: str | None = None, allow_unknown_columns: bool = False,
               progress: Progress | None = None, report: bool = True) -> dict[str, Any]:
    """Run ``reform`` over ``registry``; write the files under ``out_dir`` and return the summary.

    Raises
    ------
    InputFileError
        The registry cannot be read (a missing file, an unknown type, a bad header).
    """
    registry, out_dir = Path(registry), Path(out_dir)
    if engine not in ("local", "dask"):
        raise InputFileError(f"engine must be 'local' or 'dask', got {engine!r}", path="--engine")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputFileError("the output is a file, not a directory", path=str(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    clear_previous(out_dir)
    setup = {"reform": reform, "ref": ref, "as_of": as_of, "allow": allow_unknown_columns}
    threads = threads or (2 if (os.cpu_count() or 1) >= 2 else 1)
    outcomes = (_local(_numbered(registry, chunk_rows), setup, threads) if engine == "local"
                else _dask(_numbered(registry, chunk_rows), setup, scheduler, threads))
    with disk_errors(out_dir):
        return _run(out_dir, reform, ref, as_of, outcomes, progress, report)


def _run(out_dir: Path, reform: Reform, ref: ReferenceTables, as_of: dt.date,
         outcomes: Iterator[ChunkOutcome], progress: Progress | None, report: bool) -> dict[str, Any]:
    tally = Tally(reform.touched)
    seen: set[str] = set()
    firms_tmp, rejects_tmp = out_dir / (FIRMS + ".tmp"), out_dir / (REJECTS + ".tmp")
    rejects: list[pd.DataFrame] = []
    try:
        with pq.ParquetWriter(firms_tmp, FIRMS_SCHEMA, compression="zstd") as writer:
            for index, out in enumerate(outcomes):
                kept = drop_duplicate_ids(out.chunk, seen)      # the first row of an id wins, as in match-registry
                keep = np.isin(out.chunk.valid["_row"].to_numpy(), kept.valid["_row"].to_numpy())
                writer.write_table(tally.add(out, keep))
                tally.rows_read += out.chunk.rows_read
                tally.rejected_rows.update(int(r) for r in kept.rejects["row"])
                rejects.append(kept.rejects)
                if progress:
                    progress(tally.rows_read, index + 1)
        frame = pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame(columns=REJECT_COLUMNS)
        neutralise_frame(frame.reindex(columns=REJECT_COLUMNS)).to_csv(rejects_tmp, index=False)
        os.replace(firms_tmp, out_dir / FIRMS)
        os.replace(rejects_tmp, out_dir / REJECTS)
    finally:
        firms_tmp.unlink(missing_ok=True)
        rejects_tmp.unlink(missing_ok=True)
    summary = tally.summary(reform, as_of)
    if report:
        from recommender.reform.report import write_report
        write_report(out_dir / REPORT, summary, reform, ref)
    (out_dir / SUMMARY).write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    return summary
