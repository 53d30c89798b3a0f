"""The ``recommender`` CLI: output shapes of SPEC §6 and exit status 2 naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples" / "firms.jsonl"
runner = CliRunner()
GOOD = {"firm_id": "F1", "region_code": "500112", "industry_code": "C3670"}


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_match_samples_one_result_per_firm_in_order() -> None:
    result = run("match", str(SAMPLES), "--as-of", "2022-06-30", "--top-k", "3")
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    expected_ids = [json.loads(x)["firm_id"] for x in SAMPLES.read_text(encoding="utf-8").splitlines()]
    assert [r["firm_id"] for r in lines] == expected_ids
    for r in lines:
        assert r["as_of"] == "2022-06-30"
        assert len(r["matches"]) <= 3
        assert [m["rank"] for m in r["matches"]] == list(range(1, len(r["matches"]) + 1))
        assert all(m["verdict"] in ("eligible", "undetermined") for m in r["matches"])
        assert set(r["derived"]) >= {"size_class", "industry_group", "age_years", "rd_intensity",
                                     "rd_intensity_3y", "tech_staff_ratio", "rd_staff_ratio",
                                     "revenue_growth", "small_low_profit"}


def test_match_all_lists_every_policy_best_first(catalog, tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps(GOOD), encoding="utf-8")
    result = run("match", str(path), "--all", "--as-of", "2022-06-30")
    assert result.exit_code == 0, result.output
    (doc,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert sorted(m["policy_id"] for m in doc["matches"]) == sorted(catalog.ids)
    order = {"eligible": 2, "undetermined": 1, "ineligible": 0}
    verdicts = [order[m["verdict"]] for m in doc["matches"]]
    assert verdicts == sorted(verdicts, reverse=True)


@pytest.mark.parametrize(("record", "message"), [
    ({**GOOD, "credit_code": "91500112MA5U7A2B10"},
     "error: line 1: credit_code: check character is '0', expected 'N' (GB 32100-2015)"),
    ({**GOOD, "industry_code": "C99"},
     "error: line 1: industry_code: 'C99': division 99 does not exist in GB/T 4754-2017"),
    ({**GOOD, "revenue": -5.0}, "error: line 1: revenue: Input should be greater than or equal to 0"),
    ({**GOOD, "export_share": 1.2}, "error: line 1: export_share: Input should be less than or equal to 1"),
    ({**GOOD, "established_on": "2999-01-01"}, "error: line 1: established_on: 2999-01-01 is in the future"),
    ({**GOOD, "turnover": 5.0}, "error: line 1: turnover: unknown field (not in SPEC §2)"),
    ({**GOOD, "employees": "many"}, "error: line 1: employees: Input should be a valid integer"),
])
def test_bad_input_exits_2_naming_the_field(tmp_path: Path, record: dict, message: str) -> None:
    path = tmp_path / "firms.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    result = run("match", str(path), "--as-of", "2022-06-30")
    assert result.exit_code == 2
    assert result.stderr.strip() == message


def test_bad_json_line_is_located(tmp_path: Path) -> None:
    path = tmp_path / "firms.jsonl"
    path.write_text(json.dumps(GOOD) + "\n{not json\n", encoding="utf-8")
    result = run("match", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path} line 2: invalid JSON:")


def test_duplicate_firm_id_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "firms.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps(GOOD) + "\n", encoding="utf-8")
    result = run("match", str(path))
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: line 2: firm_id: duplicate firm_id 'F1' (also on line 1)"


def test_bad_as_of(tmp_path: Path) -> None:
    result = run("match", str(SAMPLES), "--as-of", "30/06/2022")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --as-of: '30/06/2022' is not an ISO-8601 date (YYYY-MM-DD)"


def test_missing_file() -> None:
    result = run("match", "/nonexistent/firms.jsonl")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: /nonexistent/firms.jsonl: file not found"
