"""The derived-fact table: one declaration per fact, consistent with the profile and the
field registry, and the ratio rule the levers use equal to the engine's array rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from recommender.facts import FACTS, RATIOS, REPORTED
from recommender.facts.fields import DERIVED_KINDS, DERIVED_SOURCES, FIELD_KINDS
from recommender.profile.model import PROFILE_FIELDS


def test_every_fact_is_computed_from_profile_fields_only() -> None:
    for fact in FACTS.values():
        assert fact.sources and set(fact.sources) <= set(PROFILE_FIELDS), fact.name
        assert fact.label[0] and fact.label[1], fact.name


def test_field_registry_reads_the_table() -> None:
    assert list(DERIVED_KINDS) == list(REPORTED)
    assert DERIVED_KINDS["small_low_profit"] == "bool" and DERIVED_KINDS["size_class"] == "category"
    assert DERIVED_SOURCES["rd_intensity"] == ("rd_expense", "revenue")
    assert all(FIELD_KINDS[f"cert_{c}"] == "bool" for c in ("hnte", "tech_sme"))
    assert set(REPORTED) < set(FACTS) and not any(FACTS[n].reported is False for n in REPORTED)


@pytest.mark.parametrize(("num", "den", "expected"), [
    (3.0, 100.0, 0.03), (0.0, 100.0, 0.0), (1.0, 0.0, None), (np.nan, 5.0, None), (5.0, np.nan, None),
])
def test_ratio_edges(num: float, den: float, expected: float | None) -> None:
    got = RATIOS["rd_intensity"].of(num, den)
    assert (np.isnan(got) if expected is None else got == expected)


def test_revenue_growth_is_relative_to_last_year() -> None:
    growth = RATIOS["revenue_growth"]
    assert growth.of(120.0, 100.0) == (120.0 - 100.0) / 100.0
    assert growth.of(80.0, 100.0) == -0.2 and np.isnan(growth.of(80.0, 0.0))


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)


@settings(max_examples=300, deadline=None)
@given(num=finite, den=finite, name=st.sampled_from(sorted(RATIOS)))
def test_scalar_ratio_equals_array_ratio(num: float, den: float, name: str) -> None:
    class _Frame:
        def num(self, col: str) -> np.ndarray:
            return np.array([num if col == RATIOS[name].numerator else den])

    got = RATIOS[name].of(num, den)
    want = float(RATIOS[name].array(_Frame())[0])      # type: ignore[arg-type]
    assert (np.isnan(got) and np.isnan(want)) or got == want
