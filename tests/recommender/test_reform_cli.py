"""``recommender reform``: threshold edges with exact figures, bad changes refused naming the
policy and path (exit 2), a second catalog directory, the report, the Dask engine."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from recommender.cli.main import app
from recommender.errors import CatalogError
from recommender.reform import changes_hash, parse_changes, reform_from_catalog, reform_from_changes, run_reform
from tests.recommender.reform_kit import CATALOG, criterion
from tests.strategies import catalog_and_ref

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
LOWER_BAR = [{"policy_id": "cn-srdi-sme", "path": "criteria.rd_ratio.value", "value": 0.025}]


@pytest.fixture(scope="module")
def edge_registry(tmp_path_factory) -> Path:
    """Three firms of the cn-srdi-sme case base at revenue 50,000,000 with R&D just under, at and
    just over 2.5 % (1,249,999 / 1,250,000 / 1,250,001 yuan), one firm in 渝中区, one bad row."""
    case = yaml.safe_load((ROOT / "tests/cases/cn-srdi-sme.yaml").read_text(encoding="utf-8"))
    base = {k: (";".join(v) if isinstance(v, list) else v) for k, v in case["base"].items()}
    rows = [{**base, "firm_id": f"E-{name}", "revenue": 50_000_000, "rd_expense": rd}
            for name, rd in (("below", 1_249_999), ("at", 1_250_000), ("above", 1_250_001))]
    rows[2]["region_code"] = "500103"
    rows.append({**base, "firm_id": "E-bad", "employees": "=1+1"})
    path = tmp_path_factory.mktemp("edge") / "registry.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _write(path: Path, changes: object) -> Path:
    path.write_text(json.dumps(changes, ensure_ascii=False), encoding="utf-8")
    return path


def test_lowering_the_bar_moves_the_firms_at_and_above_it_only(edge_registry, tmp_path) -> None:
    out = tmp_path / "out"
    done = runner.invoke(app, ["reform", str(edge_registry), "--changes", str(_write(tmp_path / "c.json", LOWER_BAR)),
                               "--out", str(out), "--as-of", "2022-06-30"])
    assert done.exit_code == 0, done.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert json.loads(done.stdout) == summary
    assert list(summary) == ["reform_hash", "catalog_version", "reform_catalog_version", "as_of", "rows_read",
                             "firms", "rows_rejected", "policies", "by_group"]
    assert (summary["rows_read"], summary["firms"], summary["rows_rejected"]) == (4, 3, 1)
    assert summary["reform_hash"] == changes_hash(parse_changes(LOWER_BAR))
    policy = summary["policies"]["cn-srdi-sme"]
    assert list(summary["policies"]) == ["cn-srdi-sme"]
    assert policy["before"] == {"ineligible": 3, "undetermined": 0, "eligible": 0}
    assert policy["after"] == {"ineligible": 1, "undetermined": 2, "eligible": 0}
    assert policy["transitions"]["ineligible->undetermined"] == 2
    assert policy["transitions"]["ineligible->ineligible"] == 1
    assert sum(policy["transitions"].values()) == 3
    assert summary["by_group"]["region_code"] == {
        "500103": {"firms": 1, "gained": 1, "lost": 0, "cost_delta": 0.0},
        "500112": {"firms": 2, "gained": 1, "lost": 0, "cost_delta": 0.0}}
    assert summary["by_group"]["size_class"] == {"small": {"firms": 3, "gained": 2, "lost": 0, "cost_delta": 0.0}}
    assert summary["by_group"]["industry_section"] == {"I": {"firms": 3, "gained": 2, "lost": 0, "cost_delta": 0.0}}
    assert summary["by_group"]["ownership"] == {"unknown": {"firms": 3, "gained": 2, "lost": 0, "cost_delta": 0.0}}
    firms = pd.read_parquet(out / "firms.parquet")
    assert firms[["firm_id", "policy_id", "verdict_before", "verdict_after"]].values.tolist() == [
        ["E-at", "cn-srdi-sme", "ineligible", "undetermined"], ["E-above", "cn-srdi-sme", "ineligible", "undetermined"]]
    rejects = pd.read_csv(out / "rejects.csv", dtype=str)
    assert rejects.values.tolist() == [["4", "E-bad", "employees", "not a number"]]


def test_report_is_self_contained_and_labels_firms_and_wan(edge_registry, tmp_path) -> None:
    out = tmp_path / "out"
    assert runner.invoke(app, ["reform", str(edge_registry), "--changes", str(_write(tmp_path / "c.json", LOWER_BAR)),
                               "--out", str(out), "--as-of", "2022-06-30"]).exit_code == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert re.findall(r"[a-z]+://|url\(|@import", page) == []
    assert re.findall(r'(?:src|href)="(?!data:)', page) == []
    assert page.count('<svg class="chart"') == 5                 # the cost chart and one per group kind
    for text in ("转移矩阵 Transition matrix (firms)", "成本 cost before (万元)", "500112 渝北区", "500103 渝中区",
                 "I 信息传输、软件和信息技术服务业", "small 小型", "新增 gained (firms)", "专精特新"):
        assert text in page, text


@pytest.mark.parametrize(("changes", "message"), [
    ([{"policy_id": "cn-srdi-sme", "path": "criteria.rd_ratio.valu", "value": 0.025}],
     "error: policy cn-srdi-sme, at criteria.rd_ratio.valu: path does not exist: no 'valu' under criteria.rd_ratio "
     "(it has field, id, label_en, label_zh, op, value)"),
    ([{"policy_id": "cn-srdi-sme", "path": "criteria.rd_ration.value", "value": 0.025}],
     "error: policy cn-srdi-sme, at criteria.rd_ration.value: path does not exist: no item 'rd_ration' under criteria"),
    ([{"policy_id": "cn-nothing-here", "path": "valid_to", "value": "2030-01-01"}],
     "error: policy cn-nothing-here, at valid_to: no such policy in the catalog"),
    ([{"policy_id": "cn-srdi-sme", "path": "criteria.rd_ratio.value", "value": "three percent"}],
     "error: file specialized_sme/cn-srdi-sme.yaml, policy cn-srdi-sme, at "),
    ([{"policy_id": "cn-srdi-sme", "path": "valid_to", "value": "2022-02-30"}],
     "error: policy cn-srdi-sme, at valid_to: '2022-02-30' is not a calendar date"),
    ([{"policy_id": "cn-srdi-sme", "path": "valid_to", "value": "2001-01-01"}],
     "error: file specialized_sme/cn-srdi-sme.yaml, policy cn-srdi-sme, at valid_to: valid_to is before valid_from"),
    ([{"policy_id": "cn-srdi-sme", "path": "valid_to", "value": None, "why": "x"}],
     "error: at changes.0.why: unknown key 'why' (a change has policy_id, path, value)"),
    ([{"policy_id": "cn-srdi-sme", "path": "valid_to"}],
     "error: policy cn-srdi-sme, at changes.0.value: missing 'value' (use null to remove a policy or clear a key)"),
    ([], "error: at changes: a reform is a non-empty list of {policy_id, path, value} changes"),
    ([{"policy_id": "cn-srdi-sme", "path": "", "value": None}],
     "error: file specialized_sme/cn-little-giant.yaml, policy cn-little-giant, at relations.requires: "
     "unknown policy 'cn-srdi-sme'"),
])
def test_bad_changes_are_refused_naming_the_path(edge_registry, tmp_path, changes, message) -> None:
    done = runner.invoke(app, ["reform", str(edge_registry), "--changes", str(_write(tmp_path / "c.json", changes)),
                               "--out", str(tmp_path / "out"), "--as-of", "2022-06-30"])
    assert done.exit_code == 2
    assert done.stderr.startswith(message), done.stderr
    assert not (tmp_path / "out" / "summary.json").exists()


def test_exactly_one_reform_source(edge_registry, tmp_path) -> None:
    done = runner.invoke(app, ["reform", str(edge_registry), "--out", str(tmp_path / "o")])
    assert done.exit_code == 2 and "give exactly one of --changes FILE and --reform-catalog DIR" in done.stderr


def test_a_second_catalog_gives_the_same_result_as_the_changes(edge_registry, tmp_path) -> None:
    _, ref = catalog_and_ref()
    other = tmp_path / "catalog"
    shutil.copytree(CATALOG, other)
    path = other / "specialized_sme/cn-srdi-sme.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    criterion(raw["criteria"], "rd_ratio")["value"] = 0.025
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    by_dir = reform_from_catalog(CATALOG, other, ref)
    by_changes = reform_from_changes(CATALOG, parse_changes(LOWER_BAR), ref)
    assert by_dir.touched == by_changes.touched == ("cn-srdi-sme",)
    assert by_dir.reform_hash != by_changes.reform_hash
    a = run_reform(edge_registry, tmp_path / "a", reform=by_dir, ref=ref, as_of=pd.Timestamp("2022-06-30").date())
    b = run_reform(edge_registry, tmp_path / "b", reform=by_changes, ref=ref, as_of=pd.Timestamp("2022-06-30").date())
    assert a["reform_catalog_version"] != b["catalog_version"]
    assert {k: v for k, v in a.items() if "hash" not in k and "version" not in k} == \
        {k: v for k, v in b.items() if "hash" not in k and "version" not in k}


def test_the_hash_is_of_the_changes_content_not_their_spelling() -> None:
    one = parse_changes([{"policy_id": "cn-srdi-sme", "path": "valid_to", "value": "2030-01-01"}])
    two = parse_changes(yaml.safe_load("- {value: 2030-01-01, path: valid_to, policy_id: cn-srdi-sme}"))
    assert changes_hash(one) == changes_hash(two)
    assert changes_hash(one) != changes_hash(parse_changes(
        [{"policy_id": "cn-srdi-sme", "path": "valid_to", "value": "2030-01-02"}]))


def test_a_change_that_changes_nothing_touches_nothing(edge_registry, tmp_path) -> None:
    _, ref = catalog_and_ref()
    plan = reform_from_changes(CATALOG, parse_changes(
        [{"policy_id": "cn-srdi-sme", "path": "criteria.rd_ratio.value", "value": 0.03}]), ref)
    assert plan.touched == ()
    assert plan.reformed.version == plan.base.version
    summary = run_reform(edge_registry, tmp_path, reform=plan, ref=ref, as_of=pd.Timestamp("2022-06-30").date())
    assert summary["policies"] == {}
    assert summary["by_group"]["region_code"] == {"500103": {"firms": 1, "gained": 0, "lost": 0, "cost_delta": 0.0},
                                                  "500112": {"firms": 2, "gained": 0, "lost": 0, "cost_delta": 0.0}}
    with pytest.raises(CatalogError, match="path does not exist: no item '7' under criteria.rd_intensity.tiers"):
        reform_from_changes(CATALOG, parse_changes(
            [{"policy_id": "cn-hnte-recognition", "path": "criteria.rd_intensity.tiers.7.value", "value": 1}]), ref)


def test_dask_engine_equals_local(edge_registry, tmp_path) -> None:
    _, ref = catalog_and_ref()
    plan = reform_from_changes(CATALOG, parse_changes(LOWER_BAR), ref)
    day = pd.Timestamp("2022-06-30").date()
    local = run_reform(edge_registry, tmp_path / "local", reform=plan, ref=ref, as_of=day, chunk_rows=2)
    dask = run_reform(edge_registry, tmp_path / "dask", reform=plan, ref=ref, as_of=day, chunk_rows=2, engine="dask")
    assert dask == local
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask/firms.parquet"),
                                  pd.read_parquet(tmp_path / "local/firms.parquet"))
