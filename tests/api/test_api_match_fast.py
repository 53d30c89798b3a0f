"""POST /v1/match on the one-firm path: the same JSON as the general path rendered through the
response model; explain=true and bad input unchanged; a reload swaps the prepared plan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from .api_testkit import AS_OF, KEYS, LiveServer, make_settings

from api.main import create_app
from api.schemas import MatchResult
from recommender.profile.frame import profiles_to_frame
from recommender.matching.results import MatchOptions, match_frame
from recommender.profile.model import parse_profile
from recommender.matching.runtime import load_matcher

QUERIES: list[tuple[dict[str, Any], MatchOptions, str]] = [
    ({}, MatchOptions(), "relevance"),
    ({"top_k": 3, "rank_by": "expected_value"}, MatchOptions(top_k=3), "expected_value"),
    ({"all": "true"}, MatchOptions(top_k=None, include_all=True), "relevance"),
    ({"rank_by": "rules", "family": "innovation"}, MatchOptions(family="innovation"), "rules"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Any]]:
    settings = make_settings(tmp_path_factory.mktemp("var-fast"))
    app = create_app(settings)
    with LiveServer(app) as srv:
        yield srv, app


@pytest.mark.parametrize("query,options,rank_by", QUERIES)
def test_fast_json_equals_the_response_model_rendering(served, profiles, query, options, rank_by) -> None:  # type: ignore[no-untyped-def]
    srv, app = served
    matcher = app.state.service.matcher
    assert matcher.serves_one_fast(options, rank_by)
    with srv.client() as c:
        for raw in profiles:
            r = c.post("/v1/match", params={"as_of": AS_OF, **query}, json=raw)
            assert r.status_code == 200 and r.headers["content-type"] == "application/json"
            profile = parse_profile(raw, ref=matcher.ref)
            general = match_frame(profiles_to_frame([profile]), matcher.catalog, dt.date.fromisoformat(AS_OF),
                                  matcher.ref, options, matcher.ranker_for(rank_by))[0]
            assert r.json() == MatchResult.model_validate(general).model_dump(mode="json"), raw["firm_id"]


def test_explain_is_served_by_the_general_path(served, profile) -> None:  # type: ignore[no-untyped-def]
    srv, app = served
    assert not app.state.service.matcher.serves_one_fast(MatchOptions(explain=True))
    with srv.client() as c:
        r = c.post("/v1/match", params={"as_of": AS_OF, "explain": "true", "top_k": 2}, json=profile)
    assert r.status_code == 200
    body = r.json()
    assert "total_breakdown" in body and isinstance(body["matches"][0]["rank_reasons"], list)


def test_bad_input_is_still_422_with_its_field(served, profile) -> None:  # type: ignore[no-untyped-def]
    srv, _ = served
    with srv.client() as c:
        r = c.post("/v1/match", params={"as_of": AS_OF}, json={**profile, "revenue": -1.0})
    assert r.status_code == 422
    assert [i["field"] for i in r.json()["issues"]] == ["body.revenue"]


def test_reload_swaps_the_prepared_plan(tmp_path: Path, profile) -> None:  # type: ignore[no-untyped-def]
    app = create_app(make_settings(tmp_path / "var"))
    with LiveServer(app) as srv, srv.client(KEYS["admin"]) as c:
        old = app.state.service.matcher
        before = c.post("/v1/match", params={"as_of": AS_OF}, json=profile).json()
        assert c.post("/v1/admin/reload").status_code == 200
        new = app.state.service.matcher
        assert new is not old and new.one_firm is not None and new.one_firm is not old.one_firm
        assert new.serves_one_fast(MatchOptions())
        assert c.post("/v1/match", params={"as_of": AS_OF}, json=profile).json() == before
    assert load_matcher(make_settings(tmp_path / "var")).one_firm is None     # bulk users do not prepare it
