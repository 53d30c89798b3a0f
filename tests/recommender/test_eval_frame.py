"""The evaluation frame built from typed columns equals the frame of the same profiles as a
DataFrame (:meth:`EvalFrame.from_profiles`) on every accessor, for generated profiles; and no
module of the product reaches into pandas' private API."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.facts.frame import EvalFrame
from recommender.facts.rowframe import RowFrame
from recommender.profile.frame import profile_arrays, profiles_to_frame
from recommender.profile.model import parse_profile
from tests.recommender.frame_kit import assert_same_frame
from tests.strategies import catalog_and_ref, profiles

AS_OFS = [dt.date(2019, 2, 28), dt.date(2022, 6, 30), dt.date(2024, 2, 29)]
ROOT = Path(__file__).resolve().parents[2]


@settings(max_examples=60, deadline=None)
@given(raws=st.lists(profiles, min_size=1, max_size=6), as_of=st.sampled_from(AS_OFS))
def test_frame_of_columns_equals_frame_of_dataframe(raws: list[dict[str, object]], as_of: dt.date) -> None:
    _, ref = catalog_and_ref()
    parsed = [parse_profile({"firm_id": f"F{i}", **r}, ref=ref) for i, r in enumerate(raws)]
    want = EvalFrame.from_profiles(profiles_to_frame(parsed), as_of, ref)
    assert_same_frame(EvalFrame(profile_arrays(parsed), as_of, ref), want)
    if len(parsed) == 1:            # the one-row form is an EvalFrame with the same answers
        row = RowFrame(parsed[0], as_of, ref)
        assert isinstance(row, EvalFrame)
        assert_same_frame(row, EvalFrame.from_profiles(profiles_to_frame(parsed), as_of, ref))


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
