"""Property: evaluating firms one at a time and as one batch gives identical outcomes."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.engine.eligibility import evaluate_catalog
from recommender.profile.frame import profiles_to_frame
from recommender.profile.model import parse_profile
from tests.strategies import catalog_and_ref, profiles


@settings(max_examples=40, deadline=None)
@given(batch=st.lists(profiles, min_size=1, max_size=8),
       as_of=st.sampled_from([dt.date(2021, 6, 30), dt.date(2022, 6, 30), dt.date(2022, 11, 1), dt.date(2023, 6, 30)]))
def test_single_and_batch_agree(batch, as_of) -> None:
    catalog, ref = catalog_and_ref()
    parsed = [parse_profile({"firm_id": f"F{i}", **p}, ref=ref) for i, p in enumerate(batch)]
    together = evaluate_catalog(catalog, profiles_to_frame(parsed), as_of, ref)
    for i, profile in enumerate(parsed):
        alone = evaluate_catalog(catalog, profiles_to_frame([profile]), as_of, ref)
        for pid, outcome in alone.outcomes.items():
            joint = together.outcomes[pid]
            assert joint.verdict[i] == outcome.verdict[0], (pid, batch[i])
            for path, values in outcome.nodes.items():
                assert joint.nodes[path][i] == values[0], (pid, path, batch[i])
            lo_a, hi_a = outcome.policy.estimate(alone.frame)
            lo_b, hi_b = outcome.policy.estimate(together.frame)
            np.testing.assert_array_equal([lo_a[0], hi_a[0]], [lo_b[i], hi_b[i]])
