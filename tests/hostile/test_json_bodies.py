"""Issue 17 items 7 and 10: deeply nested JSON, non-finite money and numbers given as dates,
through the API (each JSON endpoint) and the CLI, refused with the field named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from recommender.cli.main import app

DEEP_LIST = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000
SCREEN = {"policy_id": "cn-tech-sme-evaluation", "as_of": "2022-06-30"}
NON_FINITE = ["Infinity", "-Infinity", "NaN", "1e400"]
FINITE = "Input should be a finite number"
NOT_A_DATE = "must be an ISO-8601 date string, YYYY-MM-DD"


def _with_raw(profile: dict[str, Any], field: str, raw: str) -> str:
    """``profile`` as JSON text with ``field``'s value written as the literal ``raw``."""
    return json.dumps({**profile, field: "@@"}).replace('"@@"', raw)


def _issues(r) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(i["field"], i["reason"]) for i in r.json()["issues"]]


@pytest.mark.parametrize("body", [DEEP_LIST, DEEP_OBJECT], ids=["list", "object"])
@pytest.mark.parametrize(("path", "params"), [("/v1/match", {}), ("/v1/match/batch", {}),
                                              ("/v1/screen", SCREEN), ("/v1/outcomes", {})])
def test_deep_json_is_422_and_the_connection_lives(clients, profile, body: str, path: str,  # type: ignore[no-untyped-def]
                                                   params: dict[str, str]) -> None:
    client = clients["caseworker"]
    r = client.post(path, params=params, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == "the body is not valid JSON"
    [(field, reason)] = _issues(r)
    assert field == "body" and reason.startswith("nested more than 200 levels deep at line 1 column ")
    again = client.post("/v1/match", params={"as_of": "2022-06-30"}, json=profile)   # same connection
    assert again.status_code == 200


def test_json_nested_within_the_limit_is_read(clients) -> None:  # type: ignore[no-untyped-def]
    body = "[" * 150 + "]" * 150          # parsed, then refused as the wrong shape, not as JSON
    r = clients["caseworker"].post("/v1/match/batch", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"] == "invalid request body"


@pytest.mark.parametrize("raw", NON_FINITE)
@pytest.mark.parametrize("field", ["revenue", "taxable_income", "export_share", "years_in_niche"])
def test_non_finite_numbers_refused_in_every_json_body(clients, profile, raw: str, field: str) -> None:  # type: ignore[no-untyped-def]
    one = _with_raw(profile, field, raw)
    headers = {"content-type": "application/json"}
    r = clients[None].post("/v1/match", content=one, headers=headers)
    assert (r.status_code, _issues(r)) == (422, [(f"body.{field}", FINITE)])
    r = clients[None].post("/v1/match/batch", content=f"[{one}]", headers=headers)
    assert (r.status_code, _issues(r)) == (422, [(f"body.0.{field}", FINITE)])
    r = clients["caseworker"].post("/v1/screen", params=SCREEN, content=f"[{one}]", headers=headers)
    assert (r.status_code, _issues(r)) == (422, [(f"body.0.{field}", FINITE)])


def test_count_beyond_any_float_is_refused(clients, profile) -> None:  # type: ignore[no-untyped-def]
    r = clients[None].post("/v1/match", content=_with_raw(profile, "employees", "1" + "0" * 400),
                           headers={"content-type": "application/json"})
    assert (r.status_code, _issues(r)) == (422, [("body.employees", FINITE)])
    ok = clients[None].post("/v1/match", json={**profile, "employees": 10**30})   # huge but finite
    assert ok.status_code == 200


@pytest.mark.parametrize("raw", ["0", "1654646400", '"1654646400"', '"2022/6/30"', "true", '"2022-06-30T00:00:00"'])
def test_dates_must_be_iso_strings(clients, profile, raw: str) -> None:  # type: ignore[no-untyped-def]
    r = clients[None].post("/v1/match", content=_with_raw(profile, "established_on", raw),
                           headers={"content-type": "application/json"})
    assert (r.status_code, _issues(r)) == (422, [("body.established_on", NOT_A_DATE)])
    outcome = {"firm_id": "F1", "policy_id": "cn-tech-sme-evaluation", "event_date": "@@", "outcome": "approved"}
    r = clients["caseworker"].post("/v1/outcomes", content=json.dumps([outcome]).replace('"@@"', raw),
                                   headers={"content-type": "application/json"})
    assert (r.status_code, _issues(r)) == (422, [("body.0.event_date", NOT_A_DATE)])


def test_iso_dates_still_accepted(clients, profile) -> None:  # type: ignore[no-untyped-def]
    r = clients[None].post("/v1/match", json={**profile, "established_on": " 2015-03-18 "})
    assert r.status_code == 200


def _cli(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("raw", NON_FINITE)
def test_cli_refuses_non_finite_money(tmp_path: Path, profile, raw: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "firms.jsonl"
    path.write_text(_with_raw(profile, "revenue", raw) + "\n", encoding="utf-8")
    result = _cli("match", str(path), "--as-of", "2022-06-30")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: line 1: revenue: {FINITE}"


def test_cli_refuses_a_number_as_a_date(tmp_path: Path, profile) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "firms.jsonl"
    path.write_text(json.dumps({**profile, "established_on": 0}) + "\n", encoding="utf-8")
    result = _cli("match", str(path), "--as-of", "2022-06-30")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: line 1: established_on: {NOT_A_DATE}"


@pytest.mark.parametrize("name", ["firm.json", "firms.jsonl"])
def test_cli_deep_json_exits_2(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(DEEP_LIST + "\n", encoding="utf-8")
    result = _cli("match", str(path))
    assert result.exit_code == 2
    assert "invalid JSON: nested more than 200 levels deep" in result.stderr


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400"])
def test_registry_refuses_non_finite_money_naming_the_field(tmp_path: Path, profile, value: str) -> None:  # type: ignore[no-untyped-def]
    registry = tmp_path / "registry.csv"
    pd.DataFrame([{**profile, "certifications": None, "revenue": value},
                  {**profile, "firm_id": "OK-1", "certifications": None}]).to_csv(registry, index=False)
    out = tmp_path / "out.csv"
    result = _cli("match-registry", str(registry), "--out", str(out), "--as-of", "2022-06-30", "--quiet")
    assert result.exit_code == 0, result.output
    rejects = pd.read_csv(tmp_path / "out.rejects.csv") if (tmp_path / "out.rejects.csv").exists() else None
    summary = json.loads((tmp_path / "out.summary.json").read_text(encoding="utf-8"))
    assert (summary["rows_read"], summary["firms_matched"], summary["rows_rejected"]) == (2, 1, 1)
    assert rejects is not None and set(rejects["field"]) == {"revenue"} and set(rejects["row"]) == {1}
