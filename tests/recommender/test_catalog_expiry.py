"""``recommender catalog expiring``: ends exactly N days ahead are listed, N+1 are not; ended
policies with and without a successor (``relations.replaces``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli.main import app
from recommender.errors import CatalogError
from recommender.rules import expiring, load_catalog
from recommender.settings import DEFAULT_DATA_DIR

from tests.recommender.catalog_kit import policy, write_catalog

runner = CliRunner()
AS_OF = dt.date(2026, 12, 6)
D = dt.date


def _policies() -> list[dict]:
    return [
        policy("cn-test-a", valid_to=D(2027, 3, 6)),                      # as_of + 90
        policy("cn-test-b", valid_to=D(2027, 3, 7)),                      # as_of + 91
        policy("cn-test-c", valid_to=D(2026, 12, 6)),                     # as_of itself
        policy("cn-test-d", valid_to=D(2026, 12, 5)),                     # ended yesterday, no successor
        policy("cn-test-e", valid_to=D(2025, 8, 31),                      # ended, succeeded by f
               relations={"replaced_by": ["cn-test-f"]}),
        policy("cn-test-f", valid_from=D(2025, 9, 1), relations={"replaces": ["cn-test-e"]},
               windows=[{"opens": D(2026, 11, 1), "closes": D(2027, 3, 6)},     # closes at +90
                        {"opens": D(2027, 3, 1), "closes": D(2027, 3, 7)}]),    # closes at +91
        policy("cn-test-g", valid_to=D(2027, 1, 31),
               windows=[{"opens": D(2026, 12, 1), "closes": D(2027, 1, 31)},    # = valid_to: one row
                        {"opens": D(2027, 1, 1), "closes": D(2027, 2, 15)}]),   # after valid_to
    ]


@pytest.fixture()
def catalog_dir(tmp_path: Path) -> Path:
    return write_catalog(tmp_path / "catalog", _policies())


def _row(pid: str, what: str, ends_on: str, days: int, successors: list[str] | None = None) -> dict:
    letter = pid[-1].upper()
    return {"policy_id": pid, "title_zh": f"测试政策{letter}", "title_en": f"Test policy {letter}", "what": what,
            "ends_on": ends_on, "days_left": days, "successors": successors or []}


def test_expiring_edges(catalog_dir: Path) -> None:
    catalog = load_catalog(catalog_dir, data_dir=DEFAULT_DATA_DIR)
    report = expiring(catalog, AS_OF, 90)
    assert report.as_dict() == {
        "as_of": "2026-12-06", "within_days": 90,
        "ending": [_row("cn-test-c", "valid_to", "2026-12-06", 0),
                   _row("cn-test-g", "valid_to", "2027-01-31", 56),
                   _row("cn-test-a", "valid_to", "2027-03-06", 90),
                   _row("cn-test-f", "window", "2027-03-06", 90)],
        "ended_without_successor": [_row("cn-test-d", "valid_to", "2026-12-05", -1)],
    }
    assert [e.policy_id for e in expiring(catalog, AS_OF, 89).ending] == ["cn-test-c", "cn-test-g"]
    assert [(e.policy_id, e.what, e.days_left) for e in expiring(catalog, AS_OF, 91).ending][2:] == [
        ("cn-test-a", "valid_to", 90), ("cn-test-f", "window", 90), ("cn-test-b", "valid_to", 91),
        ("cn-test-f", "window", 91)]
    assert [e.policy_id for e in expiring(catalog, AS_OF, 0).ending] == ["cn-test-c"]
    # the day after c's last day: c has ended and has no successor either
    later = expiring(catalog, AS_OF + dt.timedelta(days=1), 0)
    assert [(e.policy_id, e.days_left) for e in later.ended_without_successor] == [("cn-test-d", -2), ("cn-test-c", -1)]
    with pytest.raises(ValueError, match="within must be at least 0 days; got -1"):
        expiring(catalog, AS_OF, -1)


def test_successor_is_listed_beside_an_ending_policy(tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "c", [policy("cn-test-a", valid_to=D(2026, 12, 31),
                                                 relations={"replaced_by": ["cn-test-b", "cn-test-c"]}),
                                          policy("cn-test-b", relations={"replaces": ["cn-test-a"]}),
                                          policy("cn-test-c", relations={"replaces": ["cn-test-a"]})])
    report = expiring(load_catalog(root, data_dir=DEFAULT_DATA_DIR), AS_OF, 90)
    assert [(e.policy_id, e.successors) for e in report.ending] == [("cn-test-a", ("cn-test-b", "cn-test-c"))]


def test_succession_is_checked_on_both_sides(tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "c", [policy("cn-test-a", relations={"replaces": ["cn-test-z"]})])
    with pytest.raises(CatalogError, match=r"policy cn-test-a, at relations.replaces: unknown policy 'cn-test-z'"):
        load_catalog(root, data_dir=DEFAULT_DATA_DIR)
    root = write_catalog(tmp_path / "c", [policy("cn-test-a", relations={"replaces": ["cn-test-a"]})])
    with pytest.raises(CatalogError, match="a policy cannot relate to itself"):
        load_catalog(root, data_dir=DEFAULT_DATA_DIR)
    root = write_catalog(tmp_path / "c", [policy("cn-test-a", valid_to=D(2025, 8, 31)),
                                          policy("cn-test-b", relations={"replaces": ["cn-test-a"]})])
    with pytest.raises(CatalogError, match="'cn-test-a' does not list 'cn-test-b' under relations.replaced_by"):
        load_catalog(root, data_dir=DEFAULT_DATA_DIR)


def test_cli_expiring_json_table_and_bad_input(catalog_dir: Path) -> None:
    env = {"RECOMMENDER_CATALOG_DIR": str(catalog_dir)}
    res = runner.invoke(app, ["catalog", "expiring", "--as-of", "2026-12-06", "--json"], env=env)
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert [(r["policy_id"], r["what"], r["days_left"]) for r in got["ending"]] == [
        ("cn-test-c", "valid_to", 0), ("cn-test-g", "valid_to", 56), ("cn-test-a", "valid_to", 90),
        ("cn-test-f", "window", 90)]
    table = runner.invoke(app, ["catalog", "expiring", "--as-of", "2026-12-06", "--within", "30"], env=env)
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert any("cn-test-c" in x and "测试政策C" in x and "2026-12-06" in x and " 0 " in x for x in lines)
    assert not any("cn-test-a" in x for x in lines)
    assert any("cn-test-d" in x and "2026-12-05" in x for x in lines)
    for args, message in ((["--within", "-1"], "--within: must be at least 0 days; got -1"),
                          (["--as-of", "2026-13-01"], "--as-of: '2026-13-01' is not an ISO-8601 date")):
        bad = runner.invoke(app, ["catalog", "expiring", *args], env=env)
        assert bad.exit_code == 2 and message in bad.output, bad.output
    missing = runner.invoke(app, ["catalog", "expiring"], env={"RECOMMENDER_CATALOG_DIR": str(catalog_dir / "nope")})
    assert missing.exit_code == 2 and "does not exist" in missing.output
