"""POST /v1/screen: JSON lists and CSV/XLSX uploads; JSON, CSV and XLSX answers; audit."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from .api_testkit import AS_OF, registry_frame

Clients = dict[Any, httpx.Client]
POLICY = "cn-small-low-profit-cit"
PARAMS = {"policy_id": POLICY, "as_of": AS_OF}
VERDICT_ORDER = {"eligible": 0, "undetermined": 1, "ineligible": 2}


def _xlsx(profiles: list[dict[str, Any]]) -> bytes:
    buf = io.BytesIO()
    registry_frame(profiles).to_excel(buf, index=False)
    return buf.getvalue()


def test_json_applicants_eligible_first(clients: Clients, profiles: list[dict[str, Any]]) -> None:
    r = clients["caseworker"].post("/v1/screen", params=PARAMS, json=profiles)
    assert r.status_code == 200
    body = r.json()
    rows = body["results"]
    assert sorted(x["firm_id"] for x in rows) == sorted(p["firm_id"] for p in profiles)
    ranks = [VERDICT_ORDER[x["verdict"]] for x in rows]
    assert ranks == sorted(ranks)
    assert sum(body["counts"][v] for v in VERDICT_ORDER) == len(profiles)
    assert body["counts"]["rejected"] == 0
    for x in rows:
        assert set(x) == {"firm_id", "name", "credit_code", "district", "policy_id", "verdict", "score",
                          "estimated_benefit", "failed_criteria", "unknown_criteria", "missing_fields",
                          "verify_yourself"}
        assert (x["verdict"] == "ineligible") == bool(x["failed_criteria"])


def test_csv_upload_lists_rejected_rows(clients: Clients, registry_csv: Path, profiles: list[dict[str, Any]]) -> None:
    r = clients["caseworker"].post("/v1/screen", params=PARAMS,
                                   files={"file": ("applicants.csv", registry_csv.read_bytes(), "text/csv")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["results"]) == len(profiles)
    assert body["rejects"] == [{"row": len(profiles) + 1, "firm_id": "BAD-1", "field": "revenue",
                                "reason": "must be >= 0"}]
    assert body["counts"]["rejected"] == 1


def test_xlsx_upload_matches_json(clients: Clients, profiles: list[dict[str, Any]]) -> None:
    as_json = clients["caseworker"].post("/v1/screen", params=PARAMS, json=profiles).json()["results"]
    files = {"file": ("applicants.xlsx", _xlsx(profiles), "application/octet-stream")}
    as_xlsx = clients["caseworker"].post("/v1/screen", params=PARAMS, files=files)
    assert as_xlsx.status_code == 200, as_xlsx.text
    assert as_xlsx.json()["results"] == as_json


def test_csv_answer_opens_in_a_spreadsheet(clients: Clients, profiles: list[dict[str, Any]]) -> None:
    r = clients["caseworker"].post("/v1/screen", params={**PARAMS, "format": "csv"}, json=profiles)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())
    chinese, *english_and_rows = r.content.decode("utf-8-sig").splitlines()
    assert chinese.startswith("企业名称,统一社会信用代码,所在区县,企业编号,结论")
    rows = list(csv.DictReader(io.StringIO("\n".join(english_and_rows))))
    assert list(rows[0]) == ["name", "credit_code", "district", "firm_id", "verdict", "score", "estimated_benefit",
                             "failed_criteria", "unknown_criteria", "missing_fields", "verify_yourself", "policy_id"]
    assert len(rows) == len(profiles)


def test_xlsx_answer(clients: Clients, registry_csv: Path, profiles: list[dict[str, Any]]) -> None:
    r = clients["caseworker"].post("/v1/screen", params={**PARAMS, "format": "xlsx"},
                                   files={"file": ("a.csv", registry_csv.read_bytes(), "text/csv")})
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["说明 Cover", "名单 List", "未受理 Rejected"]
    values = list(wb["名单 List"].iter_rows(values_only=True))
    assert values[1][3:5] == ("firm_id", "verdict")
    assert len(values) == 2 + len(profiles)
    assert list(wb["未受理 Rejected"].iter_rows(values_only=True))[2:] == [
        (len(profiles) + 1, "BAD-1", "revenue", "must be >= 0")]


@pytest.mark.parametrize(("name", "content", "mime"), [
    ("applicants.pdf", b"%PDF-1.4", "application/pdf"),
    ("applicants.txt", b"firm_id\nA", "text/plain"),
])
def test_unsupported_upload_is_415(clients: Clients, name: str, content: bytes, mime: str) -> None:
    r = clients["caseworker"].post("/v1/screen", params=PARAMS, files={"file": (name, content, mime)})
    assert r.status_code == 415
    assert r.json()["issues"][0]["field"] == "file"


def test_unsupported_body_type_is_415(clients: Clients) -> None:
    r = clients["caseworker"].post("/v1/screen", params=PARAMS, content=b"<xml/>",
                                   headers={"Content-Type": "application/xml"})
    assert r.status_code == 415


def test_broken_spreadsheet_is_422(clients: Clients) -> None:
    r = clients["caseworker"].post("/v1/screen", params=PARAMS,
                                   files={"file": ("a.xlsx", b"not a zip file", "application/octet-stream")})
    assert r.status_code == 422
    assert r.json()["issues"][0]["field"] == "file"


def test_unknown_policy_is_404(clients: Clients, profiles: list[dict[str, Any]]) -> None:
    r = clients["caseworker"].post("/v1/screen", params={"policy_id": "cn-nope"}, json=profiles)
    assert r.status_code == 404
    assert r.json()["issues"] == [{"field": "policy_id", "reason": "unknown policy 'cn-nope'"}]


def test_too_many_applicants_is_413(clients: Clients, tmp_path: Path, profiles: list[dict[str, Any]]) -> None:
    many = [{**profiles[0], "firm_id": f"F{i}"} for i in range(1001)]
    path = tmp_path / "many.csv"
    registry_frame(many).to_csv(path, index=False)
    r = clients["caseworker"].post("/v1/screen", params=PARAMS,
                                   files={"file": ("many.csv", path.read_bytes(), "text/csv")})
    assert r.status_code == 413
    assert "POST /v1/jobs" in r.json()["detail"]


def test_screening_is_audited_without_figures(clients: Clients, profiles: list[dict[str, Any]]) -> None:
    clients["caseworker"].post("/v1/screen", params=PARAMS, json=profiles[:2])
    entry = clients["admin"].get("/v1/admin/audit", params={"limit": 1}).json()[0]
    ready = clients[None].get("/readyz").json()
    assert {k: entry[k] for k in ("action", "policy_id", "n_firms", "role", "catalog_version", "model_version")} == {
        "action": "screen", "policy_id": POLICY, "n_firms": 2, "role": "caseworker",
        "catalog_version": ready["catalog_version"], "model_version": ready["model_version"]}
    assert entry["key_id"] != "dev-caseworker-key" and len(entry["key_id"]) == 12
    assert "revenue" not in str(entry)
