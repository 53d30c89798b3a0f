"""Screening rows and the hand-on files: who each firm is, only the criteria carrying its verdict,
the CSV's two header rows, the XLSX row limit."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from recommender.engine import evaluate_catalog, explain_row
from recommender.matching import Cover, handoff_csv, handoff_xlsx, screen_frame
from recommender.matching import handoff
from recommender.profile import profiles_to_frame, read_profiles

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2022, 6, 30)
POLICY = "cn-tech-sme-evaluation"


@pytest.fixture(scope="module")
def frame(ref):  # type: ignore[no-untyped-def]
    return profiles_to_frame(read_profiles(ROOT / "data" / "samples" / "firms.jsonl", ref))


def test_rows_name_the_firm_and_list_only_what_carries_the_verdict(frame, catalog, ref) -> None:  # type: ignore[no-untyped-def]
    policy = catalog.get(POLICY)
    rows = {r["firm_id"]: r for r in screen_frame(frame, policy, AS_OF, ref)}
    first = json.loads((ROOT / "data" / "samples" / "firms.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert {k: rows["CQ-001"][k] for k in ("name", "credit_code", "district")} == {
        "name": first["name"], "credit_code": first["credit_code"], "district": "渝北区"}
    assert {k: rows["CQ-013"][k] for k in ("name", "credit_code")} == {"name": None, "credit_code": None}
    elig = evaluate_catalog([policy], frame, AS_OF, ref)
    index = {fid: i for i, fid in enumerate(frame["firm_id"])}
    alternatives_failed = 0
    for fid, row in rows.items():
        outcomes = {c["id"]: c["outcome"] for c in explain_row(elig.outcomes[POLICY], elig.frame, index[fid])["criteria"]}
        if row["verdict"] == "eligible":
            assert row["failed_criteria"] == [] and row["unknown_criteria"] == [] and row["missing_fields"] == []
            alternatives_failed += "not_met" in outcomes.values()      # a failed "any of" branch, not listed
            assert [v.split("（")[-1] for v in row["verify_yourself"]] == ["第六条(一)）", "第六条(三)）"]
        elif row["verdict"] == "ineligible":
            assert row["failed_criteria"]
            assert {c.split(":")[0] for c in row["failed_criteria"]} <= {k for k, v in outcomes.items() if v == "not_met"}
    assert alternatives_failed > 0


def test_the_csv_has_a_chinese_then_an_english_header_and_rejects_last(frame, catalog, ref) -> None:  # type: ignore[no-untyped-def]
    policy = catalog.get(POLICY)
    rows = screen_frame(frame.head(2), policy, AS_OF, ref)
    cover = Cover("screen", policy, AS_OF, catalog.version)
    rejects = [{"row": 9, "firm_id": "=BAD", "field": "revenue", "reason": "must be >= 0"}]
    text = handoff_csv(rows, rejects, cover).decode("utf-8")
    lines = text.split("\r\n")
    assert text.startswith("\ufeff")
    assert lines[0] == "\ufeff企业名称,统一社会信用代码,所在区县,企业编号,结论,得分,预计金额（元）,未满足的条件,无法判定的条件,需补充的信息,需自行核实的条件,政策编号"
    assert lines[1] == ("name,credit_code,district,firm_id,verdict,score,estimated_benefit,failed_criteria,"
                        "unknown_criteria,missing_fields,verify_yourself,policy_id")
    assert lines[4] == f",,,'=BAD,未受理 rejected,,,revenue: must be >= 0 (row 9),,,,{POLICY}"
    assert lines[5] == ""


def test_an_xlsx_too_long_for_a_sheet_is_refused(frame, catalog, ref, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    policy = catalog.get(POLICY)
    rows = screen_frame(frame.head(3), policy, AS_OF, ref)
    cover = Cover("find-firms", policy, AS_OF, catalog.version)
    monkeypatch.setattr(handoff, "XLSX_MAX_ROWS", 5)
    assert handoff_xlsx(rows, [], cover)[:2] == b"PK"                    # 3 rows + 2 header rows: fits
    monkeypatch.setattr(handoff, "XLSX_MAX_ROWS", 4)
    with pytest.raises(ValueError, match="^3 rows do not fit in one XLSX sheet"):
        handoff_xlsx(rows, [], cover)
