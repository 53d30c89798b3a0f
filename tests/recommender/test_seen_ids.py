"""Ids of earlier chunks (bulk duplicate detection): exact, whatever the hashes do."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.bulk.parts import SeenIds, part_paths, write_ipc

ID = st.text(alphabet="ABCD12", min_size=1, max_size=3)


def _run(tmp_path, chunks: list[list[str]], coarse: bool) -> list[list[bool]]:
    """``contains`` of each chunk against the earlier ones, then ``add`` (as a run does)."""
    seen = SeenIds(tmp_path)
    if coarse:   # three hash values for every id: every lookup meets collisions
        seen._hash = lambda ids: np.array([len(i) % 3 for i in ids], dtype=np.uint64)  # type: ignore[method-assign]
    answers = []
    for index, ids in enumerate(chunks):
        arr = np.array(ids, dtype=object)
        hit = seen.contains(arr)
        answers.append(hit.tolist())
        write_ipc(pa.table({"firm_id": pa.array(ids, type=pa.string())}), part_paths(tmp_path, index)[0])
        seen.add(arr[~hit], index)
    return answers


def _oracle(chunks: list[list[str]]) -> list[list[bool]]:
    earlier: set[str] = set()
    out = []
    for ids in chunks:
        out.append([i in earlier for i in ids])
        earlier |= set(ids)
    return out


@pytest.mark.parametrize("coarse", [False, True])
def test_ids_of_earlier_chunks_are_found_across_merged_runs(tmp_path, coarse) -> None:
    chunks = [[f"F{c}-{i}" for i in range(5)] for c in range(9)]      # 9 chunks: runs of 8 and 1
    chunks[8] = ["F0-0", "F7-4", "new", "F3-2", "F8-0"]
    answers = _run(tmp_path, chunks, coarse)
    assert answers[8] == [True, True, False, True, False]
    assert answers == _oracle(chunks)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(ID, min_size=0, max_size=6, unique=True), min_size=1, max_size=8), st.booleans())
def test_contains_equals_a_set_of_every_earlier_id(tmp_path_factory, chunks, coarse) -> None:
    assert _run(tmp_path_factory.mktemp("parts"), chunks, coarse) == _oracle(chunks)


def test_runs_stay_logarithmic_in_chunks(tmp_path) -> None:
    seen = SeenIds(tmp_path)
    for index in range(64):
        seen.add(np.array([f"F{index}-{i}" for i in range(10)], dtype=object), index)
    assert [len(h) for h, _ in seen._runs] == [640]
    seen.add(np.array(["x"], dtype=object), 64)
    assert [len(h) for h, _ in seen._runs] == [640, 1]
