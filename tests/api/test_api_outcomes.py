"""POST /v1/outcomes and GET /v1/outcomes/export (SPEC §7 interactions)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

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
    assert lines[0] == "firm_id,policy_id,event_date,outcome,model_version,rank"
    assert [x for x in lines if x.startswith("OUT-")] == [
        "OUT-2,cn-rd-super-deduction,2022-04-15,rejected,,",
        "OUT-1,cn-small-low-profit-cit,2022-05-01,applied,,",
        "OUT-1,cn-small-low-profit-cit,2022-06-01,approved,,",
    ]
    only = c.get("/v1/outcomes/export", params={"policy_id": "cn-rd-super-deduction"}).text.splitlines()
    assert only == ["firm_id,policy_id,event_date,outcome,model_version,rank",
                    "OUT-2,cn-rd-super-deduction,2022-04-15,rejected,,"]


SHOWN = [
    {"firm_id": "SHOWN-1", "policy_id": "cn-tech-sme-evaluation", "event_date": "2022-05-20", "outcome": "approved",
     "model_version": "ltr-e5e9b3aa7006", "rank": 1},
    {"firm_id": "SHOWN-1", "policy_id": "cn-rd-super-deduction", "event_date": "2022-05-21", "outcome": "rejected",
     "model_version": "m" * 64, "rank": 100_000},
    {"firm_id": "SHOWN-2", "policy_id": "cn-tech-sme-evaluation", "event_date": "2022-05-22", "outcome": "applied",
     "rank": 7},
    {"firm_id": "SHOWN-3", "policy_id": "cn-tech-sme-evaluation", "event_date": "2022-05-23", "outcome": "applied",
     "model_version": "=HYPERLINK(1)"},
]


def test_the_model_version_and_rank_shown_are_stored_and_exported(clients: Clients) -> None:
    c = clients["caseworker"]
    assert c.post("/v1/outcomes", json=SHOWN).json() == {"recorded": 4, "duplicates": 0}
    # the same application again, shown by another model at another rank: a duplicate, the first kept
    again = {**SHOWN[0], "model_version": "rules-v1", "rank": 3}
    assert c.post("/v1/outcomes", json=[again, again]).json() == {"recorded": 0, "duplicates": 2}
    lines = [x for x in c.get("/v1/outcomes/export").text.splitlines() if x.startswith("SHOWN-")]
    assert lines == [
        "SHOWN-1,cn-tech-sme-evaluation,2022-05-20,approved,ltr-e5e9b3aa7006,1",
        f"SHOWN-1,cn-rd-super-deduction,2022-05-21,rejected,{'m' * 64},100000",
        "SHOWN-2,cn-tech-sme-evaluation,2022-05-22,applied,,7",
        "SHOWN-3,cn-tech-sme-evaluation,2022-05-23,applied,'=HYPERLINK(1),",   # formula guarded
    ]


@pytest.mark.parametrize(("extra", "field", "reason"), [
    ({"rank": 0}, "rank", "Input should be greater than or equal to 1"),
    ({"rank": -3}, "rank", "Input should be greater than or equal to 1"),
    ({"rank": 100_001}, "rank", "Input should be less than or equal to 100000"),
    ({"rank": 1.5}, "rank", "Input should be a valid integer"),
    ({"rank": 2.0}, "rank", "Input should be a valid integer"),
    ({"rank": "2"}, "rank", "Input should be a valid integer"),
    ({"rank": True}, "rank", "Input should be a valid integer"),
    ({"model_version": "m" * 65}, "model_version", "String should have at most 64 characters"),
    ({"model_version": ""}, "model_version", "String should have at least 1 character"),
    ({"model_version": 7}, "model_version", "Input should be a valid string"),
    ({"model_version": "ltr\n1"}, "model_version", "String should match pattern '^[^\\x00-\\x1f\\x7f]+$'"),
])
def test_bad_model_version_or_rank_is_422_naming_the_field(clients: Clients, extra: dict[str, Any], field: str,
                                                           reason: str) -> None:
    r = clients["caseworker"].post("/v1/outcomes", json=[SHOWN[0], {**SHOWN[2], **extra}])
    assert r.status_code == 422, r.text
    assert r.json()["issues"] == [{"field": f"body.1.{field}", "reason": reason}]


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
