"""The Dask engine gives the same output as the local engine (2-worker LocalCluster).

The Dask run goes through the installed CLI in a subprocess, end to end and isolated from
whatever the test process has set up (event loops, servers, warning filters).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from recommender.bulk.run import run_registry
from recommender.matching.runtime import load_ranker
from recommender.settings import Settings

from tests.recommender.registry_kit import planted_registry, write_registry

AS_OF = dt.date(2022, 6, 30)
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize(("suffix", "workers"), [(".csv", "threads"), (".parquet", "threads"),
                                                 (".parquet", "processes")])
def test_dask_and_local_engines_agree(catalog, ref, tmp_path, suffix, workers) -> None:  # type: ignore[no-untyped-def]
    """Worker threads (the default LocalCluster) and worker processes (setup and results
    pickled, as on a real cluster) both give the local engine's output."""
    df, good = planted_registry()
    src = write_registry(df, tmp_path / f"registry{suffix}")
    ranker = load_ranker(Settings().resolved_model_dir(), catalog)      # the default model, as the CLI uses
    local = run_registry(src, tmp_path / "local.parquet", catalog=catalog, ref=ref, as_of=AS_OF, chunk_rows=9,
                         ranker=ranker)
    proc = subprocess.run(
        [sys.executable, "-m", "recommender.cli.main", "match-registry", str(src), "--out", str(tmp_path / "dask.parquet"),
         "--engine", "dask", "--as-of", AS_OF.isoformat(), "--chunk-rows", "9", "--quiet",
         *(["--dask-processes"] if workers == "processes" else [])],
        capture_output=True, text=True, timeout=600, cwd=ROOT, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    dist = json.loads(proc.stdout.strip().splitlines()[-1])
    assert dist["engine"] == "dask"
    assert (dist["rows_read"], dist["firms_matched"], dist["rows_rejected"]) == \
        (local["rows_read"], local["firms_matched"], local["rows_rejected"]) == (len(df), good, len(df) - good)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask.parquet"), pd.read_parquet(tmp_path / "local.parquet"))
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "dask.rejects.csv", dtype=str),
                                  pd.read_csv(tmp_path / "local.rejects.csv", dtype=str))


@pytest.mark.slow
def test_dask_reports_progress_per_partition(catalog, ref, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from recommender.bulk.cluster import run_registry_dask

    import pyarrow.parquet as pq

    df, _ = planted_registry()
    path = tmp_path / "registry.parquet"                 # a partition per row group of 9 rows
    pq.write_table(pq.read_table(write_registry(df, tmp_path / "r.parquet")), path, row_group_size=9)
    calls: list[tuple[int, int]] = []
    summary = run_registry_dask(path, tmp_path / "out.parquet", catalog=catalog, ref=ref, as_of=AS_OF,
                                chunk_rows=9, progress=lambda rows, parts: calls.append((rows, parts)))
    assert summary["reconciles"] is True
    assert [p for _, p in calls] == list(range(1, -(-len(df) // 9) + 1))
    rows = [r for r, _ in calls]
    assert rows == sorted(rows) and rows[-1] == len(df) == summary["rows_read"]
