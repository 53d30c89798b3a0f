"""The local engine's worker processes and chunk threads change nothing: output, rejects and
summary are the same bytes with 1 or 2 workers or threads, including duplicate ids that span
chunks."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from recommender.bulk.run import run_registry
from tests.recommender.registry_kit import AS_OF, planted_registry, write_registry


def _run(path, tmp_path, name, catalog, ref, **kw):  # type: ignore[no-untyped-def]
    out = tmp_path / f"{name}.parquet"
    summary = run_registry(path, out, catalog=catalog, ref=ref, as_of=AS_OF, chunk_rows=6, **kw)
    summary = {k: v for k, v in summary.items() if k not in ("seconds", "output", "rejects")}
    return out.read_bytes(), (tmp_path / f"{name}.rejects.csv").read_bytes(), summary


def test_two_workers_equal_one(catalog, ref, tmp_path) -> None:
    df, _ = planted_registry()
    # the first rows again at the end: duplicates of ids seen several chunks earlier
    df = pd.concat([df, df.iloc[:3]], ignore_index=True)
    path = write_registry(df, tmp_path / "registry.csv")
    one = _run(path, tmp_path, "one", catalog, ref, workers=1, threads=1)
    two = _run(path, tmp_path, "two", catalog, ref, workers=2)
    threads = _run(path, tmp_path, "threads", catalog, ref, threads=2)
    assert one == two == threads
    assert one[2]["rows_read"] == len(df) and one[2]["reconciles"] is True
    rejects = pd.read_csv(tmp_path / "two.rejects.csv", dtype=str)
    dup = rejects[rejects["reason"] == "duplicate firm_id (an earlier row has it)"]
    assert len(dup) == 4          # the planted duplicate of row 1 plus the three repeated rows
    assert json.loads((tmp_path / "two.summary.json").read_text())["reconciles"] is True


def test_learned_ranker_in_worker_processes_equals_one_process(catalog, ref, tmp_path) -> None:
    from recommender.ranking.learned import LearnedRanker
    from recommender.settings import Settings

    ranker = LearnedRanker(Settings().resolved_model_dir(), catalog, compiled_dir=tmp_path / "compiled")
    df, _ = planted_registry()
    path = write_registry(df, tmp_path / "registry.csv")
    one = _run(path, tmp_path, "one", catalog, ref, workers=1, threads=1, ranker=ranker)
    two = _run(path, tmp_path, "two", catalog, ref, workers=2, ranker=ranker)   # ranker pickled to workers
    threads = _run(path, tmp_path, "threads", catalog, ref, threads=3, ranker=ranker)  # one ranker shared
    assert one == two == threads and one[2]["run_model"].startswith("ltr-")
    out = pd.read_parquet(tmp_path / "one.parquet")
    assert out["approval_probability"].notna().any() and out["score"].notna().any()


@pytest.mark.parametrize("parallel", [{"workers": 2}, {"threads": 2}])
def test_interrupted_parallel_run_resumes_to_the_same_bytes(catalog, ref, tmp_path, parallel) -> None:  # type: ignore[no-untyped-def]
    """Workers run ahead of the chunk being settled, so an interrupted run leaves pending parts
    (written before ids of earlier chunks were dropped); a resumed run must not trust them."""
    df, _ = planted_registry()
    df = pd.concat([df, df.iloc[:3]], ignore_index=True)       # duplicates across chunks
    path = write_registry(df, tmp_path / "registry.csv")
    whole = _run(path, tmp_path, "whole", catalog, ref, workers=1, threads=1)
    out = tmp_path / "cut.parquet"
    try:
        run_registry(path, out, catalog=catalog, ref=ref, as_of=AS_OF, chunk_rows=6, stop_after_chunks=1,
                     **parallel)
    except InterruptedError:
        pass
    parts = tmp_path / "cut.parquet.parts"
    assert (parts / "chunk-000000.arrow").exists()
    assert not (parts / "pending-000000.arrow").exists()          # settled: renamed, not copied
    assert list(parts.glob("pending-*.arrow"))                     # later chunks were in flight
    resumed = _run(path, tmp_path, "cut", catalog, ref, resume=True, **parallel)
    assert resumed == whole
    assert not parts.exists()


def test_seen_ids_are_exact_when_every_hash_collides(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The id index keeps only hashes; a hit is confirmed against the earlier part on disk."""
    import numpy as np
    import pyarrow as pa

    from recommender.bulk import parts
    monkeypatch.setattr(parts.pd.util, "hash_array", lambda values, **kw: np.zeros(len(values), dtype=np.uint64))
    seen = parts.SeenIds(tmp_path)
    parts.write_ipc(pa.table({"firm_id": ["A", "A", "B"]}), tmp_path / "chunk-000000.arrow")
    seen.add(np.array(["A", "B"], dtype=object), 0)
    parts.write_ipc(pa.table({"firm_id": ["C"]}), tmp_path / "chunk-000001.arrow")
    seen.add(np.array(["C"], dtype=object), 1)
    got = seen.contains(np.array(["B", "X", "C", "a"], dtype=object))
    assert got.tolist() == [True, False, True, False]
