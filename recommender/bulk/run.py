"""Bulk matching of a firm registry: streamed in chunks, resumable, accountable.

One pure chunk function (:func:`match_chunk`, DataFrame → DataFrame, no cross-row state) does
the work, so chunked, resumed and distributed runs give identical output. Every input row
ends either in the output (a firm with no match gets one row with an empty ``policy_id``) or
in the rejects file with its row number, ``firm_id``, field and reason; the summary checks
``rows_read == firms_matched + rows_rejected``. Output, rejects and summary are written to
temporary files and renamed together, the summary last with the output's row count and
SHA-256: a summary beside an output vouches for that output. A run starts by removing the
previous run's summary, output, rejects and the temporaries a killed run left, so no stale
summary stands beside a new or missing output; a full disk ends the run with
:class:`~recommender.errors.OutputFileError`. Per-chunk checkpoints under ``<out>.parts/``
let ``--resume`` continue a run.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import multiprocessing as mp
import shutil
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from recommender.rules import Catalog
from recommender.errors import InputFileError
from recommender.matching import Ranker
from recommender.ranking import RuleRanker
from recommender.profile import ReferenceTables, drop_duplicate_ids, iter_raw_chunks, validate_chunk
from recommender.bulk.files import check_outputs, clear_previous_run, disk_errors
from recommender.bulk.chunks import DEFAULT_CHUNK_ROWS, Progress, match_table, output_schema
from recommender.bulk.memory import MemoryCeiling
from recommender.bulk.parts import (PENDING, ChunkResult, OutputStream, SeenIds, drop_seen, fingerprint, finish,
                                    part_paths, settle_part, write_part)

_WORKER: dict[str, Any] = {}


def init_worker(setup: dict[str, Any]) -> None:
    _WORKER.update(setup)


def one_prediction_thread(ranker: Ranker) -> Ranker:
    """The ranker as each of several workers (processes or threads) runs it: predictions on
    one thread (two workers on two cores, each starting two prediction threads, only contend)."""
    if hasattr(ranker, "threads"):
        ranker = copy.copy(ranker)
        ranker.threads = 1
    return ranker


def process_chunk(raw: pd.DataFrame, first_row: int, match: bool, setup: dict[str, Any] | None = None,
                   write_to: tuple[Path, int] | None = None) -> ChunkResult:
    """Validate one raw chunk and (unless ``match`` is False) match it: the unit of work a
    worker process runs. Duplicate ids across chunks are dropped later, in chunk order.

    With ``write_to=(parts, index)`` the matches are written there as a *pending* part (a
    worker encodes its own Parquet, in parallel) and not sent back; :func:`settle_part`
    later turns it into the checkpoint.
    """
    s = setup if setup is not None else _WORKER
    chunk = drop_duplicate_ids(validate_chunk(raw, first_row, s["ref"], allow_unknown_columns=s["allow"]), set())
    table = match_table(chunk.valid, s["catalog"], s["as_of"], s["ref"], s["ranker"], s["top_k"],
                        firm_details=s.get("firm_details", False)) if match else None
    result = ChunkResult(chunk.valid["firm_id"].to_numpy(dtype=object), chunk.valid["_row"].to_numpy(),
                          chunk.rejects, chunk.rows_read, table)
    if write_to is not None and table is not None:
        write_part(write_to[0], write_to[1], result, prefix=PENDING)
        result.table, result.rejects = None, result.rejects.iloc[:0]
        result.pending = True
    return result


def default_threads() -> int:
    """Chunk threads of a local run by default: two where there are two cores or more."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def run_registry(registry: Path, out: Path, *, catalog: Catalog, ref: ReferenceTables, as_of: dt.date,
                 ranker: Ranker | None = None, rejects: Path | None = None, top_k: int = 10,
                 chunk_rows: int = DEFAULT_CHUNK_ROWS, resume: bool = False, allow_unknown_columns: bool = False,
                 progress: Progress | None = None, stop_after_chunks: int | None = None,
                 workers: int | None = None, threads: int | None = None, firm_details: bool = False) -> dict[str, Any]:
    """Match a whole registry file; returns the summary (also written beside the output).

    ``firm_details`` adds each firm's name, credit code and district after ``firm_id``
    (:data:`~recommender.bulk.chunks.FIRM_DETAILS`): a list people can hand on.

    Chunks are matched ``threads`` at a time in this process (default :func:`default_threads`):
    the chunk function spends its time in numpy, Arrow and the compiled trees, which release
    the GIL, so two threads come close to two processes while the catalog, model and code are
    held once. ``workers`` > 1 spawns that many processes instead (one thread each; each holds
    its own copy of catalog and model). Either way the main thread reads the chunks, drops ids
    seen in earlier chunks and settles the parts in chunk order, so the output depends on
    neither ``threads`` nor ``workers``.
    """
    registry, out = Path(registry), Path(out)
    with disk_errors(out):
        return _run_registry(registry, out, catalog=catalog, ref=ref, as_of=as_of, ranker=ranker,
                             rejects=rejects, top_k=top_k, chunk_rows=chunk_rows, resume=resume,
                             allow_unknown_columns=allow_unknown_columns, progress=progress,
                             stop_after_chunks=stop_after_chunks, workers=workers, threads=threads,
                             firm_details=firm_details)


def _run_registry(registry: Path, out: Path, *, catalog: Catalog, ref: ReferenceTables, as_of: dt.date,
                  ranker: Ranker | None, rejects: Path | None, top_k: int, chunk_rows: int, resume: bool,
                  allow_unknown_columns: bool, progress: Progress | None, stop_after_chunks: int | None,
                  workers: int | None, threads: int | None, firm_details: bool) -> dict[str, Any]:
    rejects = check_outputs(registry, out, rejects)
    ranker = ranker or RuleRanker()
    parts = out.with_name(out.name + ".parts")
    run_key = {"input": fingerprint(registry), "as_of": as_of.isoformat(), "catalog": catalog.version,
               "model": ranker.version, "top_k": top_k, "chunk_rows": chunk_rows,
               "allow_unknown_columns": allow_unknown_columns}
    if firm_details:
        run_key["firm_details"] = True           # checkpoints with other columns are not resumed
    manifest = parts / "run.json"
    if resume and manifest.exists():
        if json.loads(manifest.read_text()) != run_key:
            raise InputFileError("--resume: the checkpoints belong to a different run (input, date, "
                                 "catalog, model or options changed); start without --resume", path=str(parts))
    else:
        shutil.rmtree(parts, ignore_errors=True)
        parts.mkdir(parents=True)
        manifest.write_text(json.dumps(run_key))
    clear_previous_run(out, rejects, parts)
    # Worker processes are spawned, never forked: forking after LightGBM has started its
    # OpenMP threads can deadlock.
    workers = 1 if workers is None else max(1, workers)
    threads = 1 if workers > 1 else max(1, default_threads() if threads is None else threads)
    setup = {"catalog": catalog, "ref": ref, "as_of": as_of, "ranker": ranker, "top_k": top_k,
             "allow": allow_unknown_columns, "firm_details": firm_details}
    started = time.perf_counter()
    seen = SeenIds(parts)
    state = {"done": 0}
    stream = OutputStream(out, schema=output_schema(firm_details))
    release_memory = MemoryCeiling()

    def finish_chunk(index: int, result: ChunkResult) -> None:
        if result.pending:
            settle_part(parts, index, result, seen)
        else:
            result = drop_seen(result, seen, index)
            if result.table is not None:
                write_part(parts, index, result)
        result.table = None
        part = part_paths(parts, index)[0]
        if part.exists():
            stream.add(part)
        release_memory()
        state["done"] += result.rows_read
        if progress:
            progress(state["done"], index + 1)
        if stop_after_chunks is not None and index + 1 >= stop_after_chunks:
            raise InterruptedError(f"stopped after {index + 1} chunks (test hook)")

    def needs_match(index: int) -> bool:
        return not all(path.exists() for path in part_paths(parts, index))

    try:
        rows_read = _match_chunks(registry, parts, chunk_rows, setup, workers, threads, needs_match, finish_chunk)
    except BaseException:
        stream.abort()
        raise
    return finish(parts, out, rejects, rows_read, run_key, time.perf_counter() - started, stream)


def _match_chunks(registry: Path, parts: Path, chunk_rows: int, setup: dict[str, Any], workers: int, threads: int,
                  needs_match: Callable[[int], bool], finish_chunk: Callable[[int, ChunkResult], None]) -> int:
    """Every chunk of the registry matched (in this thread, ``threads`` threads or ``workers``
    processes; pending parts written under ``parts``) and handed to ``finish_chunk`` in chunk
    order; returns the rows read."""
    offset = 1
    if workers == 1 and threads == 1:
        for index, raw in enumerate(iter_raw_chunks(registry, chunk_rows)):
            result = process_chunk(raw, offset, needs_match(index), setup)
            offset += result.rows_read
            finish_chunk(index, result)
        return offset - 1
    setup = {**setup, "ranker": one_prediction_thread(setup["ranker"])}
    pool: Executor
    if workers > 1:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                                   initializer=init_worker, initargs=(setup,))
        in_flight = workers
    else:
        pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="chunk")
        in_flight = threads
    pending: deque[tuple[int, Future[ChunkResult]]] = deque()
    try:
        for index, raw in enumerate(iter_raw_chunks(registry, chunk_rows)):
            args = (raw, offset, needs_match(index), setup if workers == 1 else None)
            pending.append((index, pool.submit(process_chunk, *args, write_to=(parts, index))))
            offset += len(raw)
            del raw, args
            while len(pending) > in_flight:
                i, fut = pending.popleft()
                finish_chunk(i, fut.result())
        while pending:
            i, fut = pending.popleft()
            finish_chunk(i, fut.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return offset - 1
