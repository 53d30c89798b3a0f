"""The one-firm path gives exactly the general path's result (same JSON, key order included)."""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.profile.frame import profiles_to_frame
from recommender.matching.results import MatchOptions, match_frame
from recommender.profile.model import parse_profile
from recommender.matching.runtime import Matcher, RankBy, load_matcher
from recommender.settings import Settings
from tests.strategies import profiles

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples" / "firms.jsonl"
OPTIONS: list[tuple[MatchOptions, RankBy]] = [
    (MatchOptions(), "relevance"),
    (MatchOptions(top_k=3), "expected_value"),
    (MatchOptions(top_k=None, include_all=True), "relevance"),
    (MatchOptions(top_k=None, include_all=True), "rules"),
    (MatchOptions(family="innovation"), "relevance"),
    (MatchOptions(family="relief", top_k=2), "rules"),
]
AS_OFS = [dt.date(2021, 6, 30), dt.date(2022, 6, 30), dt.date(2024, 2, 29)]


@lru_cache(maxsize=1)
def _matcher() -> Matcher:
    return load_matcher(Settings(), one_firm=True)


def _general(m: Matcher, profile, as_of: dt.date, options: MatchOptions, rank_by: RankBy) -> dict:  # type: ignore[no-untyped-def]
    return match_frame(profiles_to_frame([profile]), m.catalog, as_of, m.ref, options, m.ranker_for(rank_by))[0]


def _json(result: dict) -> str:  # type: ignore[type-arg]
    return json.dumps(result, ensure_ascii=False)


def test_the_service_matcher_has_the_one_firm_path_for_the_default_model() -> None:
    m = _matcher()
    assert m.model_version != "rules-v1" and m.one_firm is not None
    for options, rank_by in OPTIONS:
        assert m.serves_one_fast(options, rank_by), (options, rank_by)
    assert not m.serves_one_fast(MatchOptions(explain=True))
    assert not m.serves_one_fast(MatchOptions(detail=False))


@pytest.mark.parametrize("as_of", AS_OFS)
@pytest.mark.parametrize("options,rank_by", OPTIONS)
def test_sample_firms_match_exactly(as_of: dt.date, options: MatchOptions, rank_by: RankBy) -> None:
    m = _matcher()
    for line in SAMPLES.read_text(encoding="utf-8").splitlines():
        profile = parse_profile(json.loads(line), ref=m.ref)
        fast = m.match_one(profile, as_of, options, rank_by)
        assert _json(fast) == _json(_general(m, profile, as_of, options, rank_by)), profile.firm_id


@settings(max_examples=80, deadline=None)
@given(raw=profiles, as_of=st.sampled_from(AS_OFS), choice=st.sampled_from(OPTIONS))
def test_generated_firms_match_exactly(raw, as_of, choice) -> None:  # type: ignore[no-untyped-def]
    m = _matcher()
    options, rank_by = choice
    profile = parse_profile({"firm_id": "F1", **raw}, ref=m.ref)
    assert _json(m.match_one(profile, as_of, options, rank_by)) == _json(_general(m, profile, as_of, options, rank_by))


def test_explain_takes_the_general_path() -> None:
    m = _matcher()
    profile = parse_profile(json.loads(SAMPLES.read_text(encoding="utf-8").splitlines()[0]), ref=m.ref)
    options = MatchOptions(explain=True, top_k=2)
    result = m.match_one(profile, dt.date(2022, 6, 30), options)
    assert "rank_reasons" in result["matches"][0] and "total_breakdown" in result
    assert _json(result) == _json(_general(m, profile, dt.date(2022, 6, 30), options, "relevance"))


def test_without_a_model_the_rule_order_is_served() -> None:
    m = _matcher()
    rules = Matcher(catalog=m.catalog, ref=m.ref, ranker=None,
                    one_firm=type(m.one_firm)(m.catalog, m.ref, None))  # type: ignore[misc]
    profile = parse_profile(json.loads(SAMPLES.read_text(encoding="utf-8").splitlines()[1]), ref=m.ref)
    assert rules.serves_one_fast(MatchOptions())
    got = rules.match_one(profile, dt.date(2022, 6, 30), MatchOptions())
    assert got["model_version"] == "rules-v1"
    assert _json(got) == _json(_general(rules, profile, dt.date(2022, 6, 30), MatchOptions(), "relevance"))
