"""The catalog regression snapshot: the bundled catalog still gives the stored verdicts and
benefits; a changed threshold fails the check naming each moved cell until
``catalog snapshot --update --reason`` rewrites it and records why."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from typer.testing import CliRunner

from recommender.cli.main import app
from recommender.engine import (SNAPSHOT_DATES, Move, cell, compute_snapshot, moves_by_entry, read_snapshot,
                                snapshot_moves)
from recommender.rules import Catalog
from recommender.profile import ReferenceTables
from recommender.settings import DEFAULT_DATA_DIR, PROJECT_ROOT

from tests.recommender.catalog_kit import policy, staff_limit, write_catalog

SNAPSHOT = PROJECT_ROOT / "tests" / "snapshots" / "catalog-regression.json"
runner = CliRunner()
DATES = [d.isoformat() for d in SNAPSHOT_DATES]


def test_bundled_catalog_matches_the_regression_snapshot(catalog: Catalog, ref: ReferenceTables) -> None:
    stored_dates, stored = read_snapshot(SNAPSHOT)
    current = compute_snapshot(catalog, ref, DEFAULT_DATA_DIR / "samples" / "firms.jsonl", PROJECT_ROOT / "tests" / "cases")
    moves = snapshot_moves(stored, stored_dates, current)
    shown = "\n".join(str(m) for m in moves[:200]) + (f"\n… and {len(moves) - 200} more" if len(moves) > 200 else "")
    assert not moves, (f"{len(moves)} cells of the regression snapshot moved (catalog {catalog.version}):\n{shown}\n"
                       "If every move is intended: recommender catalog snapshot --update --reason \"why\"")
    assert stored_dates == DATES
    assert len(stored) == len(current) > 0


def test_cells_and_moves() -> None:
    nan = float("nan")
    assert [cell("eligible", 120000.0, 120000.0), cell("undetermined", 50000.0, 200000.5),
            cell("ineligible", nan, nan), cell("eligible", -0.001, -0.001), cell("eligible", 1 / 3, 1 / 3)] == [
        "eligible 120000", "undetermined 50000..200000.5", "ineligible", "eligible 0", "eligible 0.33"]
    stored = {"firm F1 | cn-a": ["eligible 1", "eligible 1"], "firm F1 | cn-gone": ["ineligible", "ineligible"]}
    current = {"firm F1 | cn-a": ["eligible 1", "ineligible 1"], "firm F1 | cn-new": ["eligible", "eligible"]}
    dates = (dt.date(2022, 6, 30), dt.date(2023, 6, 30))
    moves = snapshot_moves(stored, ["2022-06-30", "2023-06-30"], current, dates)
    assert moves == [Move("firm F1 | cn-a", "2023-06-30", "eligible 1", "ineligible 1"),
                     Move("firm F1 | cn-gone", "2022-06-30", "ineligible", None),
                     Move("firm F1 | cn-gone", "2023-06-30", "ineligible", None),
                     Move("firm F1 | cn-new", "2022-06-30", None, "eligible"),
                     Move("firm F1 | cn-new", "2023-06-30", None, "eligible")]
    assert str(moves[0]) == "firm F1 | cn-a @ 2023-06-30: eligible 1 → ineligible 1"
    assert str(moves[1]) == "firm F1 | cn-gone @ 2022-06-30: ineligible → (none)"
    assert moves_by_entry(moves) == ["firm F1 | cn-a: 2023-06-30 eligible 1 → ineligible 1",
                                     "firm F1 | cn-gone (gone): 2022-06-30 ineligible; 2023-06-30 ineligible",
                                     "firm F1 | cn-new (new): 2022-06-30 eligible; 2023-06-30 eligible"]


FIRM = {"firm_id": "F1", "region_code": "500112", "industry_code": "C3670", "employees": 400, "revenue": 1000000.0}
CASES = """policy: cn-test-a
as_of: 2022-06-30
base: {firm_id: T1, region_code: "500112", industry_code: C3670, employees: 500, revenue: 2000000.0}
cases:
  - {name: at the limit, verdict: eligible}
  - {name: staff unknown, set: {employees: null}, verdict: undetermined}
"""


def test_changed_threshold_fails_naming_the_move_until_updated_with_a_reason(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "catalog", [policy("cn-test-a")])
    samples = tmp_path / "firms.jsonl"
    samples.write_text(json.dumps(FIRM) + "\n", encoding="utf-8")
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "cn-test-a.yaml").write_text(CASES, encoding="utf-8")
    snap, hist = tmp_path / "snap.json", tmp_path / "history.md"
    args = ["catalog", "snapshot", "--snapshot", str(snap), "--history", str(hist), "--samples", str(samples),
            "--cases", str(tmp_path / "cases")]
    env = {"RECOMMENDER_CATALOG_DIR": str(catalog)}

    first = runner.invoke(app, [*args, "--update", "--reason", "first snapshot of the test catalog"], env=env)
    assert first.exit_code == 0, first.output
    assert read_snapshot(snap) == (DATES, {
        "case cn-test-a::at the limit": ["eligible 200000"] * 4,
        "case cn-test-a::staff unknown": ["undetermined 200000"] * 4,
        "firm F1 | cn-test-a": ["eligible 100000"] * 4,
    })
    same = runner.invoke(app, args, env=env)
    assert same.exit_code == 0 and "3 entries on 2022-06-30, 2023-06-30, 2025-10-01, 2026-12-06 match" in same.output

    write_catalog(catalog, [policy("cn-test-a", criteria=[staff_limit(450)])])   # 500 → 450
    moved = runner.invoke(app, args, env=env)
    assert moved.exit_code == 1
    assert moved.stdout.splitlines() == [f"case cn-test-a::at the limit @ {d}: eligible 200000 → ineligible 200000"
                                         for d in DATES]
    assert "4 cells moved from" in moved.stderr and "--update --reason" in moved.stderr

    no_reason = runner.invoke(app, [*args, "--update"], env=env)
    assert no_reason.exit_code == 2 and "error: --update needs --reason TEXT" in no_reason.output
    blank = runner.invoke(app, [*args, "--update", "--reason", "  "], env=env)
    assert blank.exit_code == 2
    assert runner.invoke(app, [*args, "--reason", "x"], env=env).exit_code == 2
    assert read_snapshot(snap)[1]["case cn-test-a::at the limit"] == ["eligible 200000"] * 4   # untouched

    updated = runner.invoke(app, [*args, "--update", "--reason", "staff limit lowered to 450 (test)"], env=env)
    assert updated.exit_code == 0, updated.output
    assert read_snapshot(snap)[1]["case cn-test-a::at the limit"] == ["ineligible 200000"] * 4
    assert runner.invoke(app, args, env=env).exit_code == 0
    history = hist.read_text(encoding="utf-8")
    today = dt.date.today().isoformat()
    sections = history.split("\n## ")
    assert len(sections) == 3 and sections[0].startswith("# Catalog regression snapshot: history")
    assert sections[1].startswith(f"{today} · catalog ") and "first snapshot" in sections[1]
    version = sections[2].split(" · ")[1].removeprefix("catalog ")
    assert len(version) == 16
    assert sections[2] == (
        f"{today} · catalog {version} · 4 cells of 1 entries moved\n\nReason: staff limit lowered to 450 (test)\n\n"
        "- case cn-test-a::at the limit: " + "; ".join(f"{d} eligible 200000 → ineligible 200000" for d in DATES)
        + "\n\n")
    again = runner.invoke(app, [*args, "--update", "--reason", "nothing moved"], env=env)
    assert again.exit_code == 0 and "nothing moved, nothing written" in again.output
    assert hist.read_text(encoding="utf-8") == history


def test_snapshot_bad_arguments_exit_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["catalog", "snapshot", "--cases", str(tmp_path / "none")])
    assert res.exit_code == 2 and "--cases:" in res.output and "is not a directory" in res.output
    (tmp_path / "cases").mkdir()
    case = "as_of: 2022-06-30\nbase: {firm_id: T1, region_code: '500112', industry_code: C3670}\n" \
           "cases: [{name: x, verdict: eligible}]\n"
    (tmp_path / "cases" / "x.yaml").write_text("policy: cn-nope\n" + case, encoding="utf-8")
    res = runner.invoke(app, ["catalog", "snapshot", "--cases", str(tmp_path / "cases")])
    assert res.exit_code == 2 and "error: cases name policies not in the catalog: cn-nope" in res.output
    (tmp_path / "cases" / "x.yaml").write_text("policy: cn-tech-sme-evaluation\n" + case, encoding="utf-8")
    broken = tmp_path / "snap.json"
    broken.write_text("{}", encoding="utf-8")
    res = runner.invoke(app, ["catalog", "snapshot", "--snapshot", str(broken), "--cases", str(tmp_path / "cases")])
    assert res.exit_code == 2 and f"error: {broken}: not a regression snapshot" in res.output
