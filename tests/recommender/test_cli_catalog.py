"""``recommender policies``, ``recommender catalog check`` and ``match --explain``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from recommender.cli.main import app
from recommender.settings import DEFAULT_DATA_DIR

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples" / "firms.jsonl"
runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env=env)


def _lines(result) -> list[dict]:  # type: ignore[no-untyped-def]
    return [json.loads(x) for x in result.stdout.splitlines()]


def test_policies_query_chinese_and_english() -> None:
    zh = run("policies", "--query", "研发费用加计扣除", "--as-of", "2022-06-30")
    assert zh.exit_code == 0, zh.output
    assert _lines(zh)[0]["policy_id"] == "cn-rd-super-deduction"
    en = run("policies", "--query", "VAT credit refund", "--as-of", "2022-06-30")
    assert _lines(en)[0]["policy_id"] == "cn-vat-credit-refund-2022"
    assert all(r["score"] > 0 for r in _lines(en))


def test_policies_filters(catalog) -> None:
    res = run("policies", "--family", "employment", "--region", "110105", "--active-on", "2022-06-30")
    rows = _lines(res)
    assert rows and all(r["family"] == "employment" for r in rows)
    assert all(not r["region_prefixes"] or any("110105".startswith(p) for p in r["region_prefixes"]) for r in rows)
    assert all(r["valid_from"] <= "2022-06-30" and (r["valid_to"] is None or r["valid_to"] >= "2022-06-30")
               for r in rows)
    assert all(r["application_window"]["status"] == "open" for r in rows)
    chongqing = {r["policy_id"] for r in _lines(run("policies", "--region", "500112"))}
    assert "cq-above-scale-upgrade" in chongqing
    assert "cq-above-scale-upgrade" not in {r["policy_id"] for r in _lines(run("policies", "--region", "110105"))}
    assert len(_lines(run("policies"))) == len(catalog)


def test_policies_bad_family_exits_2() -> None:
    res = run("policies", "--family", "space")
    assert res.exit_code == 2
    assert "--family: 'space' is not one of" in res.output


def test_catalog_check_is_clean_apart_from_notes() -> None:
    res = run("catalog", "check", "--as-of", "2022-06-30", "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["ok"] is True and report["errors"] == []
    assert report["samples"] > 0
    notes = {u["policy_id"]: u for u in report["uncertain"]}
    assert any("M-H" in n for n in notes["cn-hnte-recognition"]["notes"])


def test_catalog_check_lists_every_bad_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR / "reference", data / "reference")
    cat = data / "catalog"
    shutil.copytree(DEFAULT_DATA_DIR / "catalog", cat)
    (cat / "relief" / "cn-rent-relief-2022.yaml").write_text("id: cn-rent-relief-2022\nfoo: [", encoding="utf-8")
    slp = cat / "relief" / "cn-small-low-profit-cit.yaml"
    slp.write_text(slp.read_text(encoding="utf-8") + "windows:\n  - {note_en: x}\n", encoding="utf-8")
    res = run("catalog", "check", "--as-of", "2022-06-30", "--samples", str(SAMPLES),
              env={"RECOMMENDER_DATA_DIR": str(data)})
    assert res.exit_code == 1
    assert "ERROR relief/cn-rent-relief-2022.yaml: invalid YAML" in res.stdout
    assert ("ERROR file relief/cn-small-low-profit-cit.yaml, policy cn-small-low-profit-cit, at windows.0: "
            "a window needs 'opens' or 'closes'") in res.stdout


def test_match_explain_shows_values_shortfalls_and_pathway(tmp_path: Path) -> None:
    firm = json.loads(SAMPLES.read_text(encoding="utf-8").splitlines()[0])
    firm["revenue"] = 9_999_000.0
    path = tmp_path / "firm.json"
    path.write_text(json.dumps(firm), encoding="utf-8")
    res = run("match", str(path), "--explain", "--as-of", "2022-06-30")
    assert res.exit_code == 0, res.output
    (doc,) = _lines(res)
    assert doc["total_estimated_benefit"] > 0
    assert any(m["verdict"] == "eligible" and m["estimated_benefit"] for m in doc["matches"])
    assert doc["near_misses"] and all(n["what_it_takes"]["achievable"] for n in doc["near_misses"])
    assert any(s["kind"] == "raise" and s["by"] > 0
               for n in doc["near_misses"] for s in n["what_it_takes"]["steps"])
    assert doc["pathways"][0]["rank"] == 1
    assert {"next_questions", "verify_yourself", "total_breakdown"} <= set(doc)
