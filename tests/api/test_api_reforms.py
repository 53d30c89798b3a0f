"""The policy sandbox through HTTP (issue 22): POST /v1/reforms → 202 → done → summary, report,
changed firms as CSV (formula guard), the cache, and bad changes refused naming the path."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LOWER_BAR = [{"policy_id": "cn-srdi-sme", "path": "criteria.rd_ratio.value", "value": 0.025}]
AS_OF = "2022-06-30"


@pytest.fixture(scope="module")
def edge_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cn-srdi-sme case firm at revenue 50,000,000 with R&D just under, at and just over
    2.5 %; the one at the bar has a formula-like id; one row is bad."""
    case = yaml.safe_load((ROOT / "tests/cases/cn-srdi-sme.yaml").read_text(encoding="utf-8"))
    base = {k: (";".join(v) if isinstance(v, list) else v) for k, v in case["base"].items()}
    rows = [{**base, "firm_id": fid, "revenue": 50_000_000, "rd_expense": rd}
            for fid, rd in (("E-below", 1_249_999), ("=E-at", 1_250_000), ("E-above", 1_250_001))]
    rows.append({**base, "firm_id": "E-bad", "revenue": -1})
    path = tmp_path_factory.mktemp("reform") / "edge.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _post(client: httpx.Client, changes: Any, path: Path | None = None, **form: str) -> httpx.Response:
    files = {"file": ("edge.csv", path.read_bytes(), "text/csv")} if path is not None else None
    data = {"changes": changes if isinstance(changes, str) else json.dumps(changes), **form}
    return client.post("/v1/reforms", params={"as_of": AS_OF}, data=data, files=files)


def _wait(client: httpx.Client, reform_id: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/v1/reforms/{reform_id}").json()
        if body["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return dict(body)
        time.sleep(0.1)


def test_reform_end_to_end_then_the_cache(clients: dict[Any, httpx.Client], edge_csv: Path) -> None:
    c = clients["caseworker"]
    r = _post(c, LOWER_BAR, edge_csv)
    assert r.status_code == 202, r.text
    first = r.json()
    assert r.headers["Location"] == f"/v1/reforms/{first['id']}"
    assert (first["cached"], first["summary"]) == (False, None)
    done = _wait(c, first["id"])
    assert done["state"] == "succeeded", done
    summary = done["summary"]
    assert (summary["rows_read"], summary["firms"], summary["rows_rejected"]) == (4, 3, 1)
    assert summary["as_of"] == AS_OF and summary["reform_hash"] == done["reform_hash"]
    assert summary["policies"]["cn-srdi-sme"]["transitions"]["ineligible->undetermined"] == 2
    assert summary["policies"]["cn-srdi-sme"]["after"] == {"ineligible": 1, "undetermined": 2, "eligible": 0}

    report = c.get(done["report_url"])
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "政策沙盘 Reform report" in report.text and "https://" not in report.text
    firms = c.get(done["firms_url"])
    assert firms.status_code == 200 and firms.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(firms.text))) == [
        ["firm_id", "policy_id", "verdict_before", "verdict_after", "benefit_before", "benefit_after"],
        ["'=E-at", "cn-srdi-sme", "ineligible", "undetermined", "", ""],
        ["E-above", "cn-srdi-sme", "ineligible", "undetermined", "", ""]]
    rejects = c.get(f"/v1/jobs/{first['id']}/rejects").text
    assert "E-bad,revenue,must be >= 0" in rejects

    again = _post(c, LOWER_BAR, edge_csv)                           # same registry, reform, catalog, date
    assert again.status_code == 200 and again.json()["cached"] is True and again.json()["id"] == first["id"]
    assert again.json()["summary"] == summary
    by_job = _post(c, LOWER_BAR, registry_job_id=first["id"])       # the registry already uploaded
    assert by_job.status_code == 200 and by_job.json()["id"] == first["id"]
    other_day = c.post("/v1/reforms", params={"as_of": "2022-07-01"},
                       data={"changes": json.dumps(LOWER_BAR), "registry_job_id": first["id"]})
    assert other_day.status_code == 202 and other_day.json()["id"] != first["id"]
    assert _wait(c, other_day.json()["id"])["summary"]["as_of"] == "2022-07-01"


@pytest.mark.parametrize(("changes", "field", "detail"), [
    ([{"policy_id": "cn-srdi-sme", "path": "criteria.rd_ratio.valu", "value": 0.025}],
     "changes: criteria.rd_ratio.valu",
     "changes: policy cn-srdi-sme, at criteria.rd_ratio.valu: path does not exist: no 'valu' under criteria.rd_ratio"),
    ([{"policy_id": "cn-none", "path": "valid_to", "value": None}], "changes: valid_to",
     "changes: policy cn-none, at valid_to: no such policy in the catalog"),
    ("[{not json", "changes", "changes: not JSON (Expecting property name enclosed in double quotes at character 2)"),
])
def test_bad_changes_are_422_naming_the_path(clients: dict[Any, httpx.Client], edge_csv: Path, changes: Any,
                                             field: str, detail: str) -> None:
    r = _post(clients["caseworker"], changes, edge_csv)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["detail"].startswith(detail), body
    assert body["issues"][0]["field"] == field


def test_registry_is_a_file_or_a_job_not_both_nor_neither(clients: dict[Any, httpx.Client], edge_csv: Path) -> None:
    c = clients["caseworker"]
    assert _post(c, LOWER_BAR).status_code == 422
    r = _post(c, LOWER_BAR, edge_csv, registry_job_id="x")
    assert r.status_code == 422 and r.json()["issues"][0]["field"] == "file"
    assert _post(c, LOWER_BAR, registry_job_id="no-such-job").status_code == 404


def test_a_control_character_in_the_file_name_is_422(clients: dict[Any, httpx.Client], edge_csv: Path) -> None:
    boundary = "reform-boundary"                     # a raw body: httpx would percent-escape the NUL
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"changes\"\r\n\r\n{json.dumps(LOWER_BAR)}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"edge\x00.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode() + edge_csv.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    r = clients["caseworker"].post("/v1/reforms", params={"as_of": AS_OF}, content=body,
                                   headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 422, r.text
    assert r.json()["issues"] == [{"field": "file",
                                   "reason": "file name contains a control character (NUL, tab, escape, ...)"}]


def test_roles_and_unknown_reforms(clients: dict[Any, httpx.Client], edge_csv: Path, registry_csv: Path) -> None:
    assert _post(clients["public"], LOWER_BAR, edge_csv).status_code == 403
    assert clients["caseworker"].get("/v1/reforms/0000").status_code == 404
    match_job = clients["caseworker"].post("/v1/jobs", params={"as_of": AS_OF},
                                           files={"file": ("r.csv", registry_csv.read_bytes(), "text/csv")}).json()
    r = clients["caseworker"].get(f"/v1/reforms/{match_job['id']}")             # a match job is no reform
    assert r.status_code == 404 and r.json()["issues"] == [{"field": "reform_id", "reason": "unknown reform"}]
