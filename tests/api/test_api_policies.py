"""GET /v1/policies (filters, Chinese search, pagination) and /v1/policies/{id}."""

from __future__ import annotations

from typing import Any

import httpx

Clients = dict[Any, httpx.Client]
SLP = "cn-small-low-profit-cit"


def test_list_pages_through_the_whole_catalog(clients: Clients) -> None:
    total = clients[None].get("/v1/policies", params={"per_page": 100}).json()["total"]
    seen = []
    for page in range(1, total // 4 + 2):
        body = clients[None].get("/v1/policies", params={"per_page": 4, "page": page}).json()
        assert body["total"] == total and body["page"] == page
        seen += [p["id"] for p in body["items"]]
    assert len(seen) == total == len(set(seen))
    assert seen == sorted(seen)


def test_chinese_search(clients: Clients) -> None:
    body = clients[None].get("/v1/policies", params={"q": "小型微利"}).json()
    assert body["items"][0]["id"] == SLP
    assert all("小型微利" in str(clients[None].get(f"/v1/policies/{p['id']}").json())
               for p in body["items"])
    assert clients[None].get("/v1/policies", params={"q": "小型微利 不存在的词"}).json()["total"] == 0


def test_filters(clients: Clients) -> None:
    relief = clients[None].get("/v1/policies", params={"family": "relief", "per_page": 100}).json()["items"]
    assert relief and {p["family"] for p in relief} == {"relief"}
    national = clients[None].get("/v1/policies", params={"issuer_level": "national", "per_page": 100}).json()["items"]
    assert {p["issuer"]["level"] for p in national} == {"national"}
    beijing = clients[None].get("/v1/policies", params={"region_code": "110101", "per_page": 100}).json()["items"]
    assert all(not p["region_prefixes"] for p in beijing)
    in_force = clients[None].get("/v1/policies", params={"in_force_on": "2030-01-01", "per_page": 100}).json()["items"]
    assert all(p["valid_to"] is None or p["valid_to"] >= "2030-01-01" for p in in_force)


def test_detail_has_criteria_in_words_and_references(clients: Clients) -> None:
    r = clients[None].get(f"/v1/policies/{SLP}", params={"as_of": "2022-06-30"})
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == SLP and body["in_force"] is True
    assert body["references"] and body["reference_documents"][0]["document"]
    leaves = {c["id"]: c for c in body["criteria"]["children"]}
    assert leaves["taxable_income_limit"]["requirement"] == "taxable_income <= 3,000,000"
    assert leaves["taxable_income_limit"]["label_zh"] == "年度应纳税所得额不超过300万元"
    assert leaves["taxable_income_limit"]["fields"] == ["taxable_income"]


def test_unknown_policy_is_404(clients: Clients) -> None:
    r = clients[None].get("/v1/policies/cn-nope")
    assert r.status_code == 404
    assert r.json()["issues"] == [{"field": "policy_id", "reason": "unknown policy 'cn-nope'"}]


def test_bad_filters_are_422(clients: Clients) -> None:
    r = clients[None].get("/v1/policies", params={"family": "space", "per_page": 0})
    assert r.status_code == 422
    assert sorted(i["field"] for i in r.json()["issues"]) == ["query.family", "query.per_page"]
