"""Registry files are read in chunks of exactly ``chunk_rows`` rows, whatever the file's layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.profile.registry import iter_raw_chunks
from recommender.profile.validation import _credit_code_problems, _texts
from recommender.profile.uscc import credit_code_problem


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


TEXT = st.text(alphabet=st.sampled_from(list("ab1 \t\n\x1c\u3000\xa0\u2028中")), max_size=6)


@settings(max_examples=100, deadline=None)
@given(st.lists(TEXT, max_size=12, unique=True), st.sampled_from(["str", "object"]))
def test_blank_and_stripped_text_are_pythons_own(values, dtype) -> None:  # type: ignore[no-untyped-def]
    blank, text = _texts(pd.Index(values, dtype=dtype))
    assert blank.tolist() == [not v.strip() for v in values]
    assert text.tolist() == [None if not v.strip() else v.strip() for v in values]


def test_blank_and_text_of_mixed_values() -> None:
    blank, text = _texts(np.array([" ", 5, " x ", 1.5], dtype=object))
    assert blank.tolist() == [True, False, False, False] and text.tolist() == [None, "5", "x", "1.5"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=19),
                          st.text(max_size=20)), max_size=10))
def test_credit_codes_checked_as_an_array_equal_one_by_one(codes) -> None:  # type: ignore[no-untyped-def]
    got = _credit_code_problems(np.array(codes, dtype=object))
    assert got == {i: p for i, c in enumerate(codes) if (p := credit_code_problem(c))}


def test_credit_codes_valid_bad_check_digit_and_malformed() -> None:
    codes = np.array(["91500112MA5U7A2B1N", "91500112MA5U7A2B1M", "91500112MA5U7A2B1", "９1500112MA5U7A2B1N"],
                     dtype=object)
    got = _credit_code_problems(codes)
    assert sorted(got) == [1, 2, 3]                       # the first is valid
    assert got == {i: credit_code_problem(c) for i, c in enumerate(codes) if i}
