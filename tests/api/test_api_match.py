"""POST /v1/match and /v1/match/batch through HTTP: results, options and input errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from .api_testkit import AS_OF

Clients = dict[Any, httpx.Client]


def test_match_returns_a_spec_result_stamped_with_versions(clients: Clients, profile: dict[str, Any]) -> None:
    r = clients[None].post("/v1/match", params={"as_of": AS_OF}, json=profile)
    assert r.status_code == 200
    body = r.json()
    ready = clients[None].get("/readyz").json()
    assert body["firm_id"] == profile["firm_id"]
    assert body["as_of"] == AS_OF
    assert (body["catalog_version"], body["model_version"]) == (ready["catalog_version"], ready["model_version"])
    assert body["derived"]["size_class"] in ("large", "medium", "small", "micro")
    assert [m["rank"] for m in body["matches"]] == list(range(1, len(body["matches"]) + 1))
    assert {m["verdict"] for m in body["matches"]} <= {"eligible", "undetermined"}
    first = body["matches"][0]
    assert first["criteria"] and first["references"]
    assert set(first["criteria"][0]) >= {"id", "label", "outcome", "observed", "required", "gap"}


def test_all_lists_every_policy_and_top_k_cuts(clients: Clients, profile: dict[str, Any]) -> None:
    n_policies = clients[None].get("/readyz").json()["policies"]
    everything = clients[None].post("/v1/match", params={"as_of": AS_OF, "all": "true"}, json=profile).json()
    assert len(everything["matches"]) == n_policies
    top2 = clients[None].post("/v1/match", params={"as_of": AS_OF, "top_k": 2}, json=profile).json()
    assert [m["policy_id"] for m in top2["matches"]] == [m["policy_id"] for m in everything["matches"][:2]]


def test_family_filter_and_rule_ranking(clients: Clients, profile: dict[str, Any]) -> None:
    body = clients[None].post("/v1/match", params={"as_of": AS_OF, "all": "true", "family": "relief",
                                                   "rank_by": "rules"}, json=profile).json()
    assert body["matches"] and {m["family"] for m in body["matches"]} == {"relief"}
    assert body["model_version"] == "rules-v1"


def test_as_of_changes_the_evaluation_date(clients: Clients, profile: dict[str, Any]) -> None:
    early = clients[None].post("/v1/match", params={"as_of": "2019-06-30"}, json=profile).json()
    assert early["as_of"] == "2019-06-30"
    assert early["derived"]["age_years"] < clients[None].post(
        "/v1/match", params={"as_of": AS_OF}, json=profile).json()["derived"]["age_years"]


@pytest.mark.parametrize(("change", "field", "reason"), [
    ({"revenue": -1.0}, "body.revenue", "Input should be greater than or equal to 0"),
    ({"employees": 3.5}, "body.employees", "Input should be a valid integer"),
    ({"colour": "red"}, "body.colour", "unknown field (not in SPEC §2)"),
    ({"region_code": "12"}, "body.region_code", "'12' must be a 6-digit administrative division code (GB/T 2260)"),
    ({"ownership": "mixed"}, "body.ownership", "Input should be 'state', 'private', 'foreign', 'collective' or 'other'"),
])
def test_bad_profile_is_422_with_field_path(clients: Clients, profile: dict[str, Any],
                                            change: dict[str, Any], field: str, reason: str) -> None:
    r = clients[None].post("/v1/match", json={**profile, **change})
    assert r.status_code == 422
    assert r.json()["issues"] == [{"field": field, "reason": reason}]


def test_missing_required_field(clients: Clients, profile: dict[str, Any]) -> None:
    body = {k: v for k, v in profile.items() if k != "firm_id"}
    r = clients[None].post("/v1/match", json=body)
    assert r.status_code == 422
    assert r.json()["issues"] == [{"field": "body.firm_id", "reason": "required field is missing"}]


def test_bad_query_and_body_shapes(clients: Clients, profile: dict[str, Any]) -> None:
    r = clients[None].post("/v1/match", params={"as_of": "30/06/2022"}, json=profile)
    assert r.status_code == 422 and r.json()["issues"][0]["field"] == "query.as_of"
    r = clients[None].post("/v1/match", params={"top_k": 0}, json=profile)
    assert r.status_code == 422 and r.json()["issues"][0]["field"] == "query.top_k"
    r = clients[None].post("/v1/match", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["issues"][0]["field"] == "body"
    r = clients[None].post("/v1/match", json=[profile])
    assert r.status_code == 422 and r.json()["issues"][0]["field"] == "body"
    r = clients[None].post("/v1/match", content=b"firm_id=1", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415


def test_batch_keeps_input_order(clients: Clients, profiles: list[dict[str, Any]]) -> None:
    r = clients[None].post("/v1/match/batch", params={"as_of": AS_OF}, json=profiles)
    assert r.status_code == 200
    assert [x["firm_id"] for x in r.json()["results"]] == [p["firm_id"] for p in profiles]


def test_batch_errors_name_the_item(clients: Clients, profiles: list[dict[str, Any]]) -> None:
    bad = [profiles[0], {**profiles[1], "rd_staff": -2}]
    r = clients[None].post("/v1/match/batch", json=bad)
    assert r.status_code == 422
    assert r.json()["issues"] == [{"field": "body.1.rd_staff", "reason": "Input should be greater than or equal to 0"}]
    dup = clients[None].post("/v1/match/batch", json=[profiles[0], profiles[0]])
    assert dup.status_code == 422
    assert dup.json()["issues"] == [{"field": "body.1.firm_id", "reason": "duplicate of item 0"}]


def test_batch_over_the_limit_is_413_pointing_to_jobs(clients: Clients, profile: dict[str, Any]) -> None:
    small = {"firm_id": "x", "region_code": "500112", "industry_code": "C3670"}
    many = [{**small, "firm_id": f"F{i}"} for i in range(1001)]
    r = clients[None].post("/v1/match/batch", json=many)
    assert r.status_code == 413
    assert "/v1/jobs" in r.json()["detail"]


def test_empty_batch(clients: Clients) -> None:
    r = clients[None].post("/v1/match/batch", json=[])
    assert r.status_code == 200 and r.json()["results"] == []


def test_dates_outside_the_supported_range_are_422(clients: Clients, profile: dict[str, Any]) -> None:
    r = clients[None].post("/v1/match", params={"as_of": "1054-09-01"}, json=profile)
    assert r.status_code == 422 and r.json()["issues"][0]["field"] == "query.as_of"
    r = clients[None].post("/v1/match", json={**profile, "established_on": "1054-09-01"})
    assert r.status_code == 422
    assert r.json()["issues"] == [{"field": "body.established_on", "reason": "1054-09-01 is before 1900-01-01"}]
    r = clients[None].post("/v1/match/batch", json=[{**profile, "established_on": "1500-01-01"}])
    assert r.json()["issues"][0]["field"] == "body.0.established_on"


def test_learned_model_ranks_by_default(clients: Clients, profile: dict[str, Any]) -> None:
    ready = clients[None].get("/readyz").json()
    assert ready["model_error"] is None and ready["model_version"] != "rules-v1"
    for rank_by in ("relevance", "expected_value"):
        body = clients[None].post("/v1/match", params={"as_of": AS_OF, "rank_by": rank_by}, json=profile).json()
        assert body["model_version"] == ready["model_version"]
        verdicts = [m["verdict"] for m in body["matches"]]
        assert set(verdicts) == {"eligible", "undetermined"}       # candidates only, both kinds here
        if rank_by == "relevance":                                  # the model's score decides, not the verdict
            scores = [m["score"] for m in body["matches"]]
            assert scores == sorted(scores, reverse=True)


def test_explain_adds_rank_reasons_in_words_only_when_asked(clients: Clients, profile: dict[str, Any]) -> None:
    plain = clients[None].post("/v1/match", params={"as_of": AS_OF, "top_k": 3}, json=profile).json()
    assert all(m.get("rank_reasons") is None for m in plain["matches"])
    body = clients[None].post("/v1/match", params={"as_of": AS_OF, "top_k": 3, "explain": "true"},
                              json=profile).json()
    assert body["model_version"].startswith("ltr-")
    assert [m["policy_id"] for m in body["matches"]] == [m["policy_id"] for m in plain["matches"]]
    for m in body["matches"]:
        assert 1 <= len(m["rank_reasons"]) <= 3
        assert all(r.endswith(("(raises the rank)", "(lowers the rank)")) for r in m["rank_reasons"])
