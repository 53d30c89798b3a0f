"""Registry files are read in chunks of exactly ``chunk_rows`` rows, whatever the file's layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recommender.registry_io import iter_raw_chunks


@pytest.mark.parametrize(("row_group", "chunk"), [(30, 50), (50, 50), (7, 10), (100, 1), (1000, 40)])
def test_parquet_chunks_cross_row_groups_and_keep_every_row(tmp_path, row_group, chunk) -> None:  # type: ignore[no-untyped-def]
    n = 203
    table = pa.table({"firm_id": [f"F{i:04d}" for i in range(n)], "employees": np.arange(n, dtype="float64")})
    path = tmp_path / "registry.parquet"
    pq.write_table(table, path, row_group_size=row_group)
    chunks = list(iter_raw_chunks(path, chunk))
    assert [len(c) for c in chunks] == [chunk] * (n // chunk) + ([n % chunk] if n % chunk else [])
    whole = pd.concat(chunks, ignore_index=True)
    pd.testing.assert_frame_equal(whole, table.to_pandas())


def test_empty_parquet_yields_no_chunk(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"firm_id": pa.array([], type=pa.string())}), path)
    assert list(iter_raw_chunks(path, 10)) == []
