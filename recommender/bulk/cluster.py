"""The bulk run on a Dask cluster: the same chunk function, partitions as tasks.

``dask.dataframe`` reads the registry in partitions on the workers (CSV byte blocks, Parquet
row groups); each task validates its partition with the same rules as the local engine, runs
the chunk function (:func:`recommender.bulk.run.match_table`) and writes one part file. One pass
suffices because the chunk function is row-wise: the client then finds ids repeated in
earlier partitions (the first row wins, as locally) and drops those rows from the affected
parts, which equals dropping them before matching. Workers write the parts beside the
output, so on a real cluster the output directory must be on storage every worker can reach
(NFS, a mounted bucket); the client then concatenates them in row order exactly as the local
engine does.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from recommender.bulk.chunks import Progress
from recommender.bulk.parts import ChunkResult, SeenIds, fingerprint, finish, settle_part, write_part
from recommender.bulk.run import one_prediction_thread, process_chunk
from recommender.rules import Catalog
from recommender.matching import Ranker
from recommender.ranking import RuleRanker
from recommender.profile import ReferenceTables, check_header, csv_header, iter_raw_chunks
from recommender.errors import InputFileError
from recommender.bulk.files import check_outputs, clear_previous_run, disk_errors


def _partitions(registry: Path, chunk_rows: int) -> Any:
    """A dask DataFrame over the registry, read the way the local engine reads it."""
    import dask.dataframe as dd

    suffix = registry.suffix.lower()
    if suffix == ".csv":                   # (pandas would rename a duplicate 'a' to 'a.1')
        check_header(csv_header(registry), registry)
        blocksize = max(1 << 20, chunk_rows * 200)
        return dd.read_csv(registry, dtype=str, keep_default_na=False, na_values=[""],
                           blocksize=blocksize, encoding="utf-8")
    if suffix in (".parquet", ".pq"):
        check_header(pq.read_schema(registry).names, registry)
        return dd.read_parquet(registry, split_row_groups=True)
    # XLSX cannot be split by workers: the client reads it and scatters the chunks.
    frames = list(iter_raw_chunks(registry, chunk_rows))
    return dd.from_pandas(pd.concat(frames, ignore_index=True), chunksize=chunk_rows)


@contextmanager
def _malformed_rows_refused(registry: Path) -> Iterator[None]:
    """A CSV row with more cells than the header (pandas cannot split it) as InputFileError:
    the workers' CSV parser cannot put such a row back in its place, as the local engine does."""
    try:
        yield
    except pd.errors.ParserError as err:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
        # pandas counts the header as line 1 and a quoted line break as none: data row = line - 1
        where = f" (row {int(found[2]) - 1}: {found[3]} cells, the header has {found[1]})" if found else ""
        raise InputFileError(f"a row has more cells than the header{where}; the local engine "
                             "(--engine local) rejects such rows one by one", path=str(registry)) from None


def _match_part(part: pd.DataFrame, index: int, first_row: int, parts: str, setup: dict[str, Any]) -> ChunkResult:
    """Validate and match one partition, write its part files; ids repeated in earlier
    partitions are dropped afterwards by the client (the chunk function is row-wise)."""
    result = process_chunk(part.reset_index(drop=True), first_row, True, setup)
    write_part(Path(parts), index, result)
    return ChunkResult(result.firm_ids, result.rows, result.rejects.iloc[:0], result.rows_read, None)


def _lengths(registry: Path, ddf: Any) -> np.ndarray:
    """Rows per partition: from the Parquet metadata when one partition is one row group."""
    if registry.suffix.lower() in (".parquet", ".pq"):
        meta = pq.ParquetFile(registry).metadata
        lengths = np.array([meta.row_group(i).num_rows for i in range(meta.num_row_groups)])
        if len(lengths) == ddf.npartitions:
            return lengths
    return np.asarray(ddf.map_partitions(len).compute())


def run_registry_dask(registry: Path, out: Path, *, catalog: Catalog, ref: ReferenceTables, as_of: dt.date,
                      ranker: Ranker | None = None, rejects: Path | None = None, top_k: int = 10,
                      chunk_rows: int = 100_000, scheduler: str | None = None,
                      allow_unknown_columns: bool = False, n_workers: int = 2, processes: bool = False,
                      progress: Progress | None = None) -> dict[str, Any]:
    """Like :func:`recommender.bulk.run.run_registry`, on a Dask ``distributed`` cluster.

    ``scheduler`` is the address of a running scheduler (``tcp://host:8786``); without it a
    ``LocalCluster`` with ``n_workers`` single-threaded workers is started for the run. Its
    workers are threads of this process unless ``processes``: on one machine they then share
    catalog, model and caches, as the local engine's chunk threads do (1M firms, default model:
    14.9k firms/s against 12.6k with two worker processes, which each hold their own copies and
    compete for the same cache; two threads a worker were no faster). A real cluster's workers
    are processes on their hosts whatever this says.
    ``progress(rows, partitions)`` is called as each partition finishes (in any order).
    """
    with disk_errors(Path(out)):
        return _run_registry_dask(Path(registry), Path(out), catalog=catalog, ref=ref, as_of=as_of, ranker=ranker,
                                  rejects=rejects, top_k=top_k, chunk_rows=chunk_rows, scheduler=scheduler,
                                  allow_unknown_columns=allow_unknown_columns, n_workers=n_workers,
                                  processes=processes, progress=progress)


def _run_registry_dask(registry: Path, out: Path, *, catalog: Catalog, ref: ReferenceTables, as_of: dt.date,
                       ranker: Ranker | None, rejects: Path | None, top_k: int, chunk_rows: int,
                       scheduler: str | None, allow_unknown_columns: bool, n_workers: int, processes: bool,
                       progress: Progress | None) -> dict[str, Any]:
    import dask
    from dask.distributed import Client, LocalCluster, as_completed

    rejects = check_outputs(registry, out, rejects)
    ranker = ranker or RuleRanker()
    parts = out.with_name(out.name + ".parts")
    shutil.rmtree(parts, ignore_errors=True)
    parts.mkdir(parents=True)
    clear_previous_run(out, rejects, parts)
    run_key = {"input": fingerprint(registry), "as_of": as_of.isoformat(), "catalog": catalog.version,
               "model": ranker.version, "top_k": top_k, "chunk_rows": chunk_rows,
               "allow_unknown_columns": allow_unknown_columns}
    (parts / "run.json").write_text(json.dumps(run_key))
    started = time.perf_counter()
    cluster = None if scheduler else LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                                  processes=processes, dashboard_address=":0")
    try:
        with _malformed_rows_refused(registry), Client(scheduler or cluster) as client, warnings.catch_warnings():
            # dask's read_parquet calls reset_index(inplace=True), deprecated by pandas 3; with
            # thread workers its warning would reach this process's stderr once per run
            warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.reset_index")
            ddf = _partitions(registry, chunk_rows)
            lengths = _lengths(registry, ddf)
            offsets = np.concatenate([[1], 1 + np.cumsum(lengths)[:-1]]).astype(int)
            setup = {"catalog": catalog, "ref": ref, "as_of": as_of, "ranker": one_prediction_thread(ranker),
                     "top_k": top_k, "allow": allow_unknown_columns}
            shared = client.scatter([setup], broadcast=True)[0]
            tasks = [dask.delayed(_match_part)(p, i, int(o), str(parts), shared)
                     for i, (p, o) in enumerate(zip(ddf.to_delayed(), offsets))]
            futures = client.compute(tasks)
            index_of = {f.key: i for i, f in enumerate(futures)}
            results: list[Any] = [None] * len(futures)
            done_rows = 0
            for k, future in enumerate(as_completed(futures), start=1):   # progress as partitions finish
                i = index_of[future.key]
                results[i] = future.result()
                done_rows += int(lengths[i])
                if progress:
                    progress(done_rows, k)
        seen = SeenIds(parts)
        for i, res in enumerate(results):    # ids seen in an earlier partition: drop, in order
            settle_part(parts, i, res, seen, prefix="chunk")
        counts = [r.rows_read for r in results]
    finally:
        if cluster is not None:
            cluster.close()
    summary = finish(parts, out, rejects, int(sum(counts)), run_key, time.perf_counter() - started)
    summary["engine"] = "dask"
    return summary
