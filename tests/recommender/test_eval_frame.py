"""The evaluation frame built from typed columns equals the frame of the same profiles as a
DataFrame (:meth:`EvalFrame.from_profiles`) on every accessor, for generated profiles; and no
module of the product reaches into pandas' private API."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.facts import CATEGORY_FACTS, FACTS, NUMERIC_FACTS
from recommender.facts.frame import EvalFrame
from recommender.facts.rowframe import RowFrame
from recommender.profile.frame import profile_arrays, profiles_to_frame
from recommender.profile.kinds import PROFILE_KINDS
from recommender.profile.model import parse_profile
from tests.strategies import catalog_and_ref, profiles

AS_OFS = [dt.date(2019, 2, 28), dt.date(2022, 6, 30), dt.date(2024, 2, 29)]
ROOT = Path(__file__).resolve().parents[2]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fcmM"))


def _check(got: EvalFrame, want: EvalFrame) -> None:
    assert got.n == want.n
    for name, kind in PROFILE_KINDS.items():
        for row in range(want.n):
            assert got.value(name, row) == want.value(name, row), name
        if kind in ("number", "bool"):
            assert _same(got.num(name), want.num(name)), name
            assert _same(got.unknown(name), want.unknown(name)), name
        elif kind == "date":
            assert _same(got.days(name), want.days(name)), name
            assert _same(got.unknown(name, dates=True), want.unknown(name, dates=True)), name
            assert _same(got.datetimes(name), want.datetimes(name)), name
        else:
            codes, uniques = got.factorized(name)
            want_codes, want_uniques = want.factorized(name)
            assert codes.tolist() == want_codes.tolist() and list(uniques) == list(want_uniques), name
    for name in NUMERIC_FACTS:
        assert _same(got.num(name), want.num(name)), name
    for name in FACTS:
        assert [got.value(name, r) for r in range(want.n)] == [want.value(name, r) for r in range(want.n)], name
    for name in CATEGORY_FACTS:
        assert [list(x) for x in got.factorized(name)] == [list(x) for x in want.factorized(name)], name
    assert got.as_of_day == want.as_of_day
    pd.testing.assert_frame_equal(got.profiles, want.profiles, check_exact=True)
    pd.testing.assert_frame_equal(got.df, want.df, check_exact=True)


@settings(max_examples=60, deadline=None)
@given(raws=st.lists(profiles, min_size=1, max_size=6), as_of=st.sampled_from(AS_OFS))
def test_frame_of_columns_equals_frame_of_dataframe(raws: list[dict[str, object]], as_of: dt.date) -> None:
    _, ref = catalog_and_ref()
    parsed = [parse_profile({"firm_id": f"F{i}", **r}, ref=ref) for i, r in enumerate(raws)]
    want = EvalFrame.from_profiles(profiles_to_frame(parsed), as_of, ref)
    _check(EvalFrame(profile_arrays(parsed), as_of, ref), want)
    if len(parsed) == 1:            # the one-row form is an EvalFrame with the same answers
        row = RowFrame(parsed[0], as_of, ref)
        assert isinstance(row, EvalFrame)
        _check(row, EvalFrame.from_profiles(profiles_to_frame(parsed), as_of, ref))


def test_memo_remember_recall_defer() -> None:
    _, ref = catalog_and_ref()
    frame = EvalFrame(profile_arrays([]), dt.date(2022, 6, 30), ref)
    assert frame.n == 0 and frame.recall("k") is None
    frame.remember("k", 1)
    assert frame.recall("k") == 1 and frame.memo("k", lambda: 2) == 1
    calls: list[int] = []
    frame.defer("d", lambda: calls.append(1) or 3)
    assert frame.recall("d") is None and not calls          # deferred: not computed by recall
    assert frame.memo("d", lambda: 4) == 3 and calls == [1]
    assert frame.memo("d", lambda: 4) == 3 and calls == [1]


# pandas internals: the block manager and friends (``df._mgr``, ``._data``, ``._values``…), on
# anything but ``self`` (the product's own classes may name attributes alike).
_PRIVATE = re.compile(r"(?<!\bself)\.(_mgr|_data|_values|_ixs|_get_item_cache|_item_cache|_set_item|_constructor\w*|"
                      r"_consolidate\w*|_is_copy|_slice|_info_axis\w*|_get_axis\w*|_reindex\w*|_from_mgr)\b")
_PANDAS_PRIVATE_IMPORT = re.compile(r"(from|import)\s+pandas\.(_|core|api\.internals)")


def test_no_pandas_private_api_in_the_product() -> None:
    found = []
    for path in sorted((ROOT / "recommender").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if _PRIVATE.search(code) or _PANDAS_PRIVATE_IMPORT.search(code):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "pandas private API used:\n" + "\n".join(found)
