"""POST /v1/outcomes and GET /v1/outcomes/export (SPEC §7 interactions)."""

from __future__ import annotations

from typing import Any

import httpx

Clients = dict[Any, httpx.Client]
ROWS = [
    {"firm_id": "OUT-1", "policy_id": "cn-small-low-profit-cit", "event_date": "2022-05-01", "outcome": "applied"},
    {"firm_id": "OUT-1", "policy_id": "cn-small-low-profit-cit", "event_date": "2022-06-01", "outcome": "approved"},
    {"firm_id": "OUT-2", "policy_id": "cn-rd-super-deduction", "event_date": "2022-04-15", "outcome": "rejected"},
]


def test_record_then_export(clients: Clients) -> None:
    c = clients["caseworker"]
    assert c.post("/v1/outcomes", json=ROWS).json() == {"recorded": 3, "duplicates": 0}
    assert c.post("/v1/outcomes", json=ROWS[:1] + ROWS[:1]).json() == {"recorded": 0, "duplicates": 2}
    r = c.get("/v1/outcomes/export")
    assert r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0] == "firm_id,policy_id,event_date,outcome"
    assert [x for x in lines if x.startswith("OUT-")] == [
        "OUT-2,cn-rd-super-deduction,2022-04-15,rejected",
        "OUT-1,cn-small-low-profit-cit,2022-05-01,applied",
        "OUT-1,cn-small-low-profit-cit,2022-06-01,approved",
    ]
    only = c.get("/v1/outcomes/export", params={"policy_id": "cn-rd-super-deduction"}).text.splitlines()
    assert only == ["firm_id,policy_id,event_date,outcome", "OUT-2,cn-rd-super-deduction,2022-04-15,rejected"]


def test_bad_rows_name_the_field(clients: Clients) -> None:
    c = clients["caseworker"]
    r = c.post("/v1/outcomes", json=[ROWS[0], {**ROWS[1], "outcome": "won"}])
    assert r.status_code == 422
    assert r.json()["issues"] == [{"field": "body.1.outcome",
                                   "reason": "Input should be 'approved', 'rejected' or 'applied'"}]
    r = c.post("/v1/outcomes", json=[{**ROWS[0], "policy_id": "cn-nope"}])
    assert r.status_code == 422
    assert r.json()["issues"] == [{"field": "body.0.policy_id", "reason": "unknown policy 'cn-nope'"}]
    r = c.post("/v1/outcomes", json=[{**ROWS[0], "event_date": "yesterday"}])
    assert r.status_code == 422 and r.json()["issues"][0]["field"] == "body.0.event_date"
