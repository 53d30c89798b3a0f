"""Typed profile frames straight from Arrow equal the validated frame on valid data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from recommender.engine.eligibility import evaluate_catalog
from recommender.profile.validation import validate_chunk
from recommender.learning.synth import generate_registry, registry_to_parquet_frame


def _load_benchmark_module():  # type: ignore[no-untyped-def]
    """``benchmarks/arrow_profiles.py`` (a benchmark's Arrow fast path, not part of the product)."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "arrow_profiles.py"
    spec = importlib.util.spec_from_file_location("arrow_profiles", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


profile_frame = _load_benchmark_module().profile_frame


def _table(n: int = 2000, seed: int = 3) -> pa.Table:
    raw = registry_to_parquet_frame(generate_registry(n, seed, dt.date(2022, 6, 30)))
    return pa.Table.from_pandas(raw, preserve_index=False)


def test_profile_frame_equals_validated_frame(ref, catalog) -> None:
    table = _table()
    chunk = validate_chunk(table.to_pandas(), 1, ref)
    assert chunk.rejects.empty
    valid = chunk.valid.drop(columns="_row")
    got = profile_frame(table)
    pd.testing.assert_frame_equal(got, valid, check_exact=True)
    # several chunks per column, and blanks padded with spaces, read the same
    padded = table.set_column(table.schema.get_field_index("certifications"), "certifications",
                              pa.chunked_array([c for c in pa.compute.if_else(
                                  pa.compute.equal(table["certifications"], ""), "  ", table["certifications"]
                              ).chunks]))
    two = pa.concat_tables([padded.slice(0, 700), padded.slice(700)])
    pd.testing.assert_frame_equal(profile_frame(two), valid, check_exact=True)
    codes: dict = {}
    got = profile_frame(two, codes)
    assert set(codes) == {"region_code", "industry_code", "ownership", "certifications", "tax_credit_rating",
                          "firm_id", "name", "credit_code", "business_scope"}
    for name, (c, uniques) in codes.items():     # the factorisation EvalFrame would compute
        assert len(set(uniques)) == len(uniques) and None not in set(uniques)
        assert [None if k < 0 else uniques[k] for k in c] == list(got[name]), name
    as_of = dt.date(2022, 6, 30)
    a = evaluate_catalog(catalog, got, as_of, ref, factorized=codes)
    b = evaluate_catalog(catalog, chunk.valid, as_of, ref)
    np.testing.assert_array_equal(a.verdict_matrix(), b.verdict_matrix())
    for pid, o in a.outcomes.items():
        for path, values in o.nodes.items():
            np.testing.assert_array_equal(values, b.outcomes[pid].nodes[path], err_msg=f"{pid} {path}")


def test_dictionary_columns_read_the_same(ref, tmp_path) -> None:
    import pyarrow.parquet as pq
    table = _table(3000, seed=5)
    path = tmp_path / "r.parquet"
    pq.write_table(table, path, row_group_size=1000)
    text = ["region_code", "industry_code", "certifications", "tax_credit_rating", "ownership"]
    as_dict = pq.ParquetFile(path, read_dictionary=text).read()
    assert pa.types.is_dictionary(as_dict["industry_code"].type) and as_dict["industry_code"].num_chunks == 3
    codes: dict = {}
    got = profile_frame(as_dict, codes)
    pd.testing.assert_frame_equal(got, profile_frame(table), check_exact=True)
    for name in text:
        c, uniques = codes[name]
        assert len(set(uniques)) == len(uniques) and set(uniques) == set(got[name].dropna())
        assert [None if k < 0 else uniques[k] for k in c] == list(got[name]), name


def test_missing_columns_are_unknown(ref) -> None:
    table = _table(50).select(["firm_id", "industry_code", "employees"])
    frame = profile_frame(table)
    assert frame["revenue"].isna().all() and frame["revenue"].dtype == np.float64
    assert frame["established_on"].dtype == np.dtype("datetime64[ns]") and frame["established_on"].isna().all()
    assert frame["region_code"].dtype == object and frame["region_code"].isna().all()
    assert frame["employees"].notna().any()
