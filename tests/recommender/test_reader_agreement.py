"""Property: a JSON profile (FirmProfile, one record) and a registry row (the column validator,
a chunk) accept and reject the same firms, for the same fields, and read the same values."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.errors import ProfileError
from recommender.profile.frame import profiles_to_frame
from recommender.profile.model import parse_profile
from recommender.profile.validation import validate_chunk
from tests.strategies import catalog_and_ref, registry_rows


@settings(max_examples=300, deadline=None)
@given(st.lists(registry_rows, min_size=1, max_size=4))
def test_json_profile_and_registry_row_agree(rows) -> None:  # type: ignore[no-untyped-def]
    _, ref = catalog_and_ref()
    texts = pd.DataFrame([{k: text for k, (_, text) in row.items()} for row in rows], dtype=object)
    chunk = validate_chunk(texts, 1, ref)
    valid = chunk.valid.set_index("_row")
    for i, row in enumerate(rows, start=1):
        record = {k: v for k, (v, _) in row.items() if v is not None}
        try:
            profile = parse_profile(record, ref=ref)
            json_fields: set[str] = set()
        except ProfileError as err:
            profile = None
            json_fields = {issue.field.split(".")[0] for issue in err.issues}
        row_fields = set(chunk.rejects.loc[chunk.rejects["row"] == i, "field"])
        assert row_fields == json_fields, (record, chunk.rejects[chunk.rejects["row"] == i].to_dict("records"))
        if profile is not None:
            got = valid.loc[[i]].reset_index(drop=True)
            want = profiles_to_frame([profile])
            pd.testing.assert_frame_equal(got, want, check_dtype=False)
            assert np.array_equal(got.dtypes.to_numpy(), want.dtypes.to_numpy()), (got.dtypes, want.dtypes)
