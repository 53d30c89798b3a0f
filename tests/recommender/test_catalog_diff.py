"""``recommender catalog diff``: two small catalogs written here, as directories and as two git
revisions; exact rows and exact JSON; bad arguments exit 2."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli.main import app
from recommender.rules import (CATALOG_2022_REVISION, WORDING, diff_catalogs, diff_policy, diff_rows, git_toplevel, locate,
                               read_raw_catalog, summary_rows)
from recommender.settings import PROJECT_ROOT

from tests.recommender.catalog_kit import git, policy, staff_limit, write_catalog

runner = CliRunner()
INDUSTRY = {"id": "industry", "label_zh": "行业", "label_en": "Industry", "clause": "第三条",
            "field": "industry_code", "in": ["C", "I"]}


def _old() -> list[dict]:
    return [
        policy("cn-test-a"),
        policy("cn-test-b"),
        policy("cn-test-c"),
        policy("cn-test-d", criteria=[staff_limit({"by_date": [{"from": dt.date(2022, 1, 1), "value": 500}]}),
                                      INDUSTRY]),
    ]


def _new() -> list[dict]:
    return [
        policy("cn-test-a", criteria=[staff_limit(300)],
               benefit={**policy("x")["benefit"], "amount": {"mul": [0.2, {"field": "revenue"}]}}),
        policy("cn-test-c", valid_to=dt.date(2025, 8, 31), relations={"replaced_by": ["cn-test-e"]}),
        policy("cn-test-d", criteria=[staff_limit({"by_date": [{"from": dt.date(2022, 1, 1), "value": 500},
                                                               {"from": dt.date(2025, 9, 1), "value": 300}]}),
                                      {**INDUSTRY, "in": ["C", "I", "M"]}]),
        policy("cn-test-e", valid_from=dt.date(2025, 9, 1), relations={"replaces": ["cn-test-c"]}),
    ]


@pytest.fixture()
def sides(tmp_path: Path) -> tuple[Path, Path]:
    return write_catalog(tmp_path / "old", _old()), write_catalog(tmp_path / "new", _new())


EXPECTED_ROWS = [
    ("cn-test-a", "测试政策A", "changed", "criteria[staff_limit].value", "500", "300", "—"),
    ("cn-test-a", "测试政策A", "changed", "benefit.amount.mul[0]", "0.1", "0.2", "—"),
    ("cn-test-b", "测试政策B", "removed", "valid_from .. valid_to", "2022-01-01 .. open", "—", "—"),
    ("cn-test-c", "测试政策C", "ended", "valid_to", "—", "2025-08-31", "—"),
    ("cn-test-c", "测试政策C", "ended", "relations", "—", '{"replaced_by": ["cn-test-e"]}', "—"),
    ("cn-test-d", "测试政策D", "changed", "criteria[staff_limit].value.by_date[2025-09-01]", "—",
     '{"from": "2025-09-01", "value": 300}', "2025-09-01"),
    ("cn-test-d", "测试政策D", "changed", "criteria[industry].in", '["C", "I"]', '["C", "I", "M"] (+M)', "—"),
    ("cn-test-e", "测试政策E", "added", "valid_from .. valid_to", "—", "2025-09-01 .. open", "—"),
]


def _expected_json(old: str, new: str, old_version: str, new_version: str) -> dict:
    def entry(pid: str, status: str, changes: list[dict], valid_from: str = "2022-01-01",
              valid_to: str | None = None) -> dict:
        letter = pid[-1].upper()
        return {"policy_id": pid, "status": status, "title_zh": f"测试政策{letter}", "title_en": f"Test policy {letter}",
                "family": "relief", "valid_from": valid_from, "valid_to": valid_to, "changes": changes}

    def change(path: str, kind: str, before: object, after: object, when: str | None = None) -> dict:
        return {"path": path, "change": kind, "before": before, "after": after, "from": when}

    return {
        "old": {"source": old, "version": old_version, "policies": 4},
        "new": {"source": new, "version": new_version, "policies": 4},
        "ignored_keys": [],
        "summary": {"added": 1, "removed": 1, "ended": 1, "changed": 2, "unchanged": 0},
        "policies": [
            entry("cn-test-a", "changed", [change("criteria[staff_limit].value", "changed", 500, 300),
                                           change("benefit.amount.mul[0]", "changed", 0.1, 0.2)]),
            entry("cn-test-b", "removed", []),
            entry("cn-test-c", "ended", [change("valid_to", "added", None, "2025-08-31"),
                                         change("relations", "added", None, {"replaced_by": ["cn-test-e"]})],
                  valid_to="2025-08-31"),
            entry("cn-test-d", "changed", [
                change("criteria[staff_limit].value.by_date[2025-09-01]", "added", None,
                       {"from": "2025-09-01", "value": 300}, "2025-09-01"),
                {**change("criteria[industry].in", "changed", ["C", "I"], ["C", "I", "M"]),
                 "items_added": ["M"], "items_removed": []}]),
            entry("cn-test-e", "added", [], valid_from="2025-09-01"),
        ],
    }


def test_diff_rows_of_two_directories(sides: tuple[Path, Path]) -> None:
    old, new = sides
    diff = diff_catalogs(read_raw_catalog(old, "old"), read_raw_catalog(new, "new"))
    assert diff_rows(diff) == EXPECTED_ROWS
    assert summary_rows(diff) == [("cn-test-a", "测试政策A", "changed", "2", "open"),
                                  ("cn-test-b", "测试政策B", "removed", "0", "open"),
                                  ("cn-test-c", "测试政策C", "ended", "2", "2025-08-31"),
                                  ("cn-test-d", "测试政策D", "changed", "2", "open"),
                                  ("cn-test-e", "测试政策E", "added", "0", "open")]


def test_cli_json_of_two_directories(sides: tuple[Path, Path]) -> None:
    old, new = sides
    res = runner.invoke(app, ["catalog", "diff", str(old), str(new), "--json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    versions = read_raw_catalog(old, "o").version, read_raw_catalog(new, "n").version
    assert got == _expected_json(str(old), str(new), *versions)


def test_cli_table_shows_titles_paths_and_counts(sides: tuple[Path, Path]) -> None:
    old, new = sides
    res = runner.invoke(app, ["catalog", "diff", str(old), str(new)])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    for row in EXPECTED_ROWS:   # every cell of a row on one table line, in column order
        assert any(all(cell in line for cell in row) and line.index(row[0]) < line.index(row[3])
                   for line in lines), row
    assert "4 policies" in lines[-1] and lines[-1].endswith("1 added, 1 removed, 1 ended, 2 changed, 0 unchanged")
    brief = runner.invoke(app, ["catalog", "diff", str(old), str(new), "--summary"])
    assert any("cn-test-c" in line and "ended" in line and "2025-08-31" in line for line in brief.stdout.splitlines())


def test_identical_catalogs_have_no_change(sides: tuple[Path, Path]) -> None:
    old, _ = sides
    diff = diff_catalogs(read_raw_catalog(old, "a"), read_raw_catalog(old, "b"))
    assert diff.counts() == {"added": 0, "removed": 0, "ended": 0, "changed": 0, "unchanged": 4}
    assert diff_rows(diff) == []


def test_moved_end_date_is_ended_and_reopened_is_changed(tmp_path: Path) -> None:
    a = write_catalog(tmp_path / "a", [policy("cn-test-a", valid_to=dt.date(2022, 12, 31)),
                                       policy("cn-test-b", valid_to=dt.date(2022, 12, 31))])
    b = write_catalog(tmp_path / "b", [policy("cn-test-a", valid_to=dt.date(2027, 12, 31)), policy("cn-test-b")])
    diff = diff_catalogs(read_raw_catalog(a, "a"), read_raw_catalog(b, "b"))
    assert [(p.policy_id, p.status, [c.as_dict() for c in p.changes]) for p in diff.policies] == [
        ("cn-test-a", "ended", [{"path": "valid_to", "change": "changed", "before": "2022-12-31",
                                 "after": "2027-12-31", "from": None}]),
        ("cn-test-b", "changed", [{"path": "valid_to", "change": "removed", "before": "2022-12-31",
                                   "after": None, "from": None}]),
    ]


def test_a_boolean_is_not_a_number(tmp_path: Path) -> None:
    crit = {"id": "clean", "label_zh": "无", "label_en": "None", "clause": "c", "field": "dishonest_record", "op": "=="}
    a = write_catalog(tmp_path / "a", [policy("cn-test-a", criteria=[{**crit, "value": False}])])
    b = write_catalog(tmp_path / "b", [policy("cn-test-a", criteria=[{**crit, "value": 0}])])
    rows = diff_rows(diff_catalogs(read_raw_catalog(a, "a"), read_raw_catalog(b, "b")))
    assert rows == [("cn-test-a", "测试政策A", "changed", "criteria[clean].value", "false", "0", "—")]


def test_cli_two_git_revisions(tmp_path: Path, sides: tuple[Path, Path]) -> None:
    old, new = sides
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    write_catalog(repo / "data" / "catalog", _old())
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "old")
    first = git(repo, "rev-parse", "--short", "HEAD")
    write_catalog(repo / "data" / "catalog", _new())
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "new")
    res = runner.invoke(app, ["catalog", "diff", first, "git:HEAD", "--repo", str(repo), "--json"])
    assert res.exit_code == 0, res.output
    versions = read_raw_catalog(old, "o").version, read_raw_catalog(new, "n").version
    assert json.loads(res.stdout) == _expected_json(first, "HEAD", *versions)
    same = runner.invoke(app, ["catalog", "diff", "HEAD~1", str(new), "--repo", str(repo), "--json"])
    assert json.loads(same.stdout)["summary"] == {"added": 1, "removed": 1, "ended": 1, "changed": 2, "unchanged": 0}


def test_cli_bad_arguments_exit_2(tmp_path: Path, sides: tuple[Path, Path]) -> None:
    old, _ = sides
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "README").write_text("no catalog here\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = {
        (str(tmp_path / "missing"), str(old)): f"'{tmp_path / 'missing'}' is neither a catalog directory nor "
                                              f"a git revision of {repo}",
        ("nosuchrev", str(old)): f"'nosuchrev' is neither a catalog directory nor a git revision of {repo}",
        ("git:nosuchrev", str(old)): f"git:nosuchrev: unknown git revision in {repo}",
        ("git:--output=x", str(old)): f"git:--output=x: unknown git revision in {repo}",
        ("HEAD", str(old)): "git:HEAD: revision ",
        (str(empty), str(old)): f"{empty}: no policy files under {empty}",
    }
    for (a, b), message in cases.items():
        res = runner.invoke(app, ["catalog", "diff", a, b, "--repo", str(repo)])
        assert res.exit_code == 2, (a, res.output)
        assert f"error: {message}" in res.output, res.output
    assert "has no data/catalog/" in runner.invoke(app, ["catalog", "diff", "HEAD", str(old), "--repo", str(repo)]).output
    one = runner.invoke(app, ["catalog", "diff", str(old)])
    assert one.exit_code == 2 and "give NEW too" in one.output
    none = runner.invoke(app, ["catalog", "diff"])
    assert none.exit_code == 2 and "give OLD and NEW" in none.output
    norepo = runner.invoke(app, ["catalog", "diff", "HEAD", str(old), "--repo", str(empty)])
    assert norepo.exit_code == 2 and f"--repo: '{empty}' is not a git work tree" in norepo.output
    both = runner.invoke(app, ["catalog", "diff", "--since-2022", str(old), str(old)])
    assert both.exit_code == 2 and "--since-2022 takes at most one catalog" in both.output
    bad = tmp_path / "bad"
    (bad / "relief").mkdir(parents=True)
    (bad / "relief" / "cn-x.yaml").write_text("id: cn-x\nid: cn-y\n", encoding="utf-8")
    dup = runner.invoke(app, ["catalog", "diff", str(bad), str(old)])
    assert dup.exit_code == 2 and "file relief/cn-x.yaml" in dup.output and "duplicate key 'id'" in dup.output


def test_references_windows_relations_and_date_branches_are_matched_item_by_item() -> None:
    branch = {"id": "from_2023", "label_zh": "2023年起", "label_en": "From 2023", "clause": "c",
              "as_of_from": "2023-01-01"}
    before = policy("cn-test-a", criteria=[staff_limit(), branch],
                    references=[{"document": "公告2022年第1号", "title": "《甲》", "clause": "第一条"},
                                {"document": "公告2022年第2号", "title": "《乙》", "clause": "第二条"}],
                    windows=[{"opens": "2023-03-01", "closes": "2023-04-30"}],
                    relations={"grants": "tech_sme"})
    after = policy("cn-test-a", criteria=[staff_limit(), {**branch, "as_of_from": "2023-08-01"}],
                   references=[{"document": "公告2022年第2号", "title": "《乙》", "clause": "第三条"},
                               {"document": "公告2025年第7号", "title": "《丙》", "clause": "第一条"}],
                   windows=[{"opens": "2023-03-01", "closes": "2023-05-31"}],
                   relations={"grants": "tech_sme", "replaces": ["cn-test-b"]})
    assert [c.as_dict() for c in diff_policy(before, after)] == [
        {"path": "references[公告2022年第1号]", "change": "removed", "after": None, "from": None,
         "before": {"document": "公告2022年第1号", "title": "《甲》", "clause": "第一条"}},
        {"path": "references[公告2022年第2号].clause", "change": "changed", "before": "第二条", "after": "第三条",
         "from": None},
        {"path": "references[公告2025年第7号]", "change": "added", "before": None, "from": None,
         "after": {"document": "公告2025年第7号", "title": "《丙》", "clause": "第一条"}},
        {"path": "criteria[from_2023].as_of_from", "change": "changed", "before": "2023-01-01", "after": "2023-08-01",
         "from": None},
        {"path": "windows[2023-03-01].closes", "change": "changed", "before": "2023-04-30", "after": "2023-05-31",
         "from": None},
        {"path": "relations.replaces", "change": "added", "before": None, "after": ["cn-test-b"], "from": None},
    ]


def test_since_2022_reads_the_2022_catalog_from_this_repository() -> None:
    root = git_toplevel(PROJECT_ROOT)
    if root is None or subprocess.run(["git", "-C", str(root), "cat-file", "-e", f"{CATALOG_2022_REVISION}^{{commit}}"],
                                      capture_output=True, check=False).returncode != 0:
        pytest.skip("not a git clone holding the 2022 catalog commit")
    res = runner.invoke(app, ["catalog", "diff", "--since-2022", "--json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert got["old"] == {"source": CATALOG_2022_REVISION, "version": "53335d2422f3f8d7", "policies": 48}
    assert got["new"]["source"] == "data/catalog"
    assert sum(got["summary"].values()) == got["new"]["policies"] + got["summary"]["removed"]


def test_long_notes_show_what_came_and_went_and_rules_only_drops_wording(tmp_path: Path) -> None:
    note = "The 2022 guideline's document number and whether it changed any detail (M)."
    later = "From 2023 the evaluation is run by MIIT (policy-updates §2.4, M-H)."
    a = write_catalog(tmp_path / "a", [policy("cn-test-a", uncertain=[note]), policy("cn-test-b")])
    b = write_catalog(tmp_path / "b", [
        policy("cn-test-a", uncertain=[note, later], criteria=[{**staff_limit(300), "label_zh": "职工不超过300人"}]),
        policy("cn-test-b", description_en="Reworded")])
    old, new = read_raw_catalog(a, "a"), read_raw_catalog(b, "b")
    assert diff_rows(diff_catalogs(old, new)) == [   # in file order: the kit writes uncertain last
        ("cn-test-a", "测试政策A", "changed", "criteria[staff_limit].label_zh", "职工不超过限额", "职工不超过300人", "—"),
        ("cn-test-a", "测试政策A", "changed", "criteria[staff_limit].value", "500", "300", "—"),
        ("cn-test-a", "测试政策A", "changed", "uncertain", "—", f"+{later}", "—"),
        ("cn-test-b", "测试政策B", "changed", "description_en", "—", "Reworded", "—"),
    ]
    rules = diff_catalogs(old, new, WORDING)
    assert diff_rows(rules) == [("cn-test-a", "测试政策A", "changed", "criteria[staff_limit].value", "500", "300", "—")]
    assert rules.counts()["unchanged"] == 1
    res = runner.invoke(app, ["catalog", "diff", str(a), str(b), "--rules-only", "--json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert got["ignored_keys"] == sorted(WORDING)
    assert [(p["policy_id"], [c["path"] for c in p["changes"]]) for p in got["policies"]] == [
        ("cn-test-a", ["criteria[staff_limit].value"])]


def test_lists_without_keys_by_position_or_whole() -> None:
    rate = {"where": {"field": "size_class", "in": ["small", "micro"]}, "then": {"mul": [{"field": "ui_premium_paid"}, 0.9]},
            "else": 0}
    dated = {"by_date": [{"from": "2022-01-01", "value": 0.9}, {"from": "2023-01-01", "value": 0.6}]}
    before = policy("cn-test-a", benefit={**policy("x")["benefit"], "amount": rate},
                    windows=[{"closes": "2022-12-31"}])
    after = policy("cn-test-a", benefit={**policy("x")["benefit"],
                                         "amount": {**rate, "then": {"mul": [{"field": "ui_premium_paid"}, dated]}}},
                   windows=[{"closes": "2022-12-31"}, {"opens": "2023-01-01", "closes": "2023-12-31"}])
    assert [c.as_dict() for c in diff_policy(before, after)] == [
        {"path": "benefit.amount.then.mul[1]", "change": "changed", "before": 0.9, "after": dated, "from": None},
        {"path": "windows", "change": "changed", "before": [{"closes": "2022-12-31"}], "from": None,
         "after": [{"closes": "2022-12-31"}, {"opens": "2023-01-01", "closes": "2023-12-31"}]},
    ]


def test_a_moved_figure_inside_a_date_branch_carries_the_branch_date() -> None:
    def dated(later: int) -> dict:
        return policy("cn-test-a", criteria=[staff_limit({"by_date": [{"from": "2022-01-01", "value": 500},
                                                                      {"from": "2025-09-01", "value": later}]})])
    assert [c.as_dict() for c in diff_policy(dated(300), dated(250))] == [
        {"path": "criteria[staff_limit].value.by_date[2025-09-01].value", "change": "changed", "before": 300,
         "after": 250, "from": "2025-09-01"}]


def test_locate_names_the_catalog_inside_its_work_tree(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "catalogs" / "cq").mkdir(parents=True)
    git(repo, "init", "-q")
    assert locate(repo / "catalogs" / "cq") == (repo.resolve(), "catalogs/cq", "catalogs/cq")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert locate(outside, repo) == (repo, "data/catalog", str(outside))
    assert locate(outside) == (None, "data/catalog", str(outside))
