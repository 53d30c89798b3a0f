"""The derived facts of the evaluation frame equal an independent frame-wide formulation
(``derived_oracle``), bit for bit."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.facts.frame import EvalFrame
from recommender.profile.frame import profiles_to_frame
from recommender.profile.model import parse_profile
from recommender.learning.synth import generate_registry
from tests.recommender.derived_oracle import oracle_derived
from tests.strategies import catalog_and_ref, profiles

AS_OFS = [dt.date(2019, 2, 28), dt.date(2021, 6, 30), dt.date(2022, 6, 30), dt.date(2024, 2, 29)]


def _check(frame: pd.DataFrame, as_of: dt.date, ref) -> None:  # type: ignore[no-untyped-def]
    expected = oracle_derived(frame, as_of, ref)
    ev = EvalFrame.from_profiles(frame, as_of, ref)
    # column by column through the array API first (the order criteria use), then as a frame
    for name in expected.columns[len(frame.columns):]:
        if expected[name].dtype.kind == "f":
            np.testing.assert_array_equal(ev.num(name), expected[name].to_numpy(), err_msg=name)
        else:
            codes, uniques = ev.factorized(name)
            got = np.array([None if c < 0 else uniques[c] for c in codes], dtype=object)
            want = expected[name].astype(object).where(expected[name].notna(), None).to_numpy()
            assert list(got) == list(want), name
    pd.testing.assert_frame_equal(ev.df, expected, check_exact=True)
    fresh = EvalFrame.from_profiles(frame, as_of, ref)       # df first, arrays after: the same values
    pd.testing.assert_frame_equal(fresh.df, expected, check_exact=True)
    for name in ("size_class", "industry_group", "age_years", "cert_hnte"):
        assert [fresh.value(name, i) for i in range(len(frame))] == \
            [None if pd.isna(v) else v for v in expected[name].tolist()]


@settings(max_examples=60, deadline=None)
@given(batch=st.lists(profiles, min_size=1, max_size=6), as_of=st.sampled_from(AS_OFS))
def test_derived_arrays_equal_add_derived(batch, as_of) -> None:
    _, ref = catalog_and_ref()
    parsed = [parse_profile({"firm_id": f"F{i}", **p}, ref=ref) for i, p in enumerate(batch)]
    _check(profiles_to_frame(parsed), as_of, ref)


def test_derived_arrays_on_a_synthetic_registry() -> None:
    _, ref = catalog_and_ref()
    from recommender.profile.validation import validate_chunk
    from recommender.learning.synth import registry_to_parquet_frame
    raw = registry_to_parquet_frame(generate_registry(3000, 7, dt.date(2022, 6, 30)))
    valid = validate_chunk(raw, 1, ref).valid
    for as_of in AS_OFS:
        _check(valid, as_of, ref)
