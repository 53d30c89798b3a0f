"""``recommender fairness`` (SPEC §9): writes fairness.json and a self-contained report.html;
bad input ends with exit status 2 naming the file and the column."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner
from .fairness_kit import matches_frame, write_case
from .registry_kit import planted_registry, write_registry

from recommender.cli.main import app

runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def fairness(paths: dict[str, Path], out: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run("fairness", "--matches", str(paths["matches"]), "--registry", str(paths["registry"]),
               "--out", str(out), "--reps", "100", *extra)


class _Links(HTMLParser):
    """Every address a page would load or link to: src, href, and CSS url()."""

    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.addresses += [value or "" for name, value in attrs if name in ("src", "href", "action", "srcset")]


def external_addresses(page: str) -> list[str]:
    parser = _Links()
    parser.feed(page)
    found = [a for a in parser.addresses if not a.startswith("data:")]
    found += re.findall(r"url\(\s*['\"]?(?!data:)([^)'\"]+)", page)
    found += re.findall(r"@import", page)
    text_without_data = re.sub(r"data:[^\"')\s]+", "", page)
    found += re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}", text_without_data)
    return found


def test_writes_json_and_a_self_contained_report(tmp_path: Path) -> None:
    paths = write_case(tmp_path / "case")
    out = tmp_path / "out"
    result = fairness(paths, out, "--outcomes", str(paths["outcomes"]), "--min-group-size", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("6 firms (10 match rows): ")
    report = json.loads((out / "fairness.json").read_text(encoding="utf-8"))
    assert report["method"] == {"min_group_size": 3, "bootstrap_reps": 100, "confidence": 0.95, "seed": 0,
                                "rank_k": 1, "interval": "percentile bootstrap"}
    assert list(report["by_group"]) == ["region_code", "size_class", "ownership", "industry_section"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert external_addresses(page) == []
    # a chart per group column with a group shown: districts and ownership (size classes and
    # sections are all suppressed at minimum 3: 5 + 1 firms, the 1 takes the 5 with it)
    assert page.count('src="data:image/png;base64,') == 2
    for text in ("渝北区 500112", "万州区 500101", "民营 private", "制造业 C", "3 户", "66.7 %", "已隐去",
                 "申请获批率", "元"):
        assert text in page, text


def test_the_no_external_url_check_can_fail() -> None:
    assert "https://cdn.example.com/x.png" in external_addresses('<img src="https://cdn.example.com/x.png">')
    assert external_addresses("<p>see https://example.com</p>") == ["https://example.com"]
    assert external_addresses("<style>body{background:url(//x.example.org/a.png)}</style>") != []
    assert external_addresses('<img src="data:image/png;base64,QUJD//x">') == []


def test_same_seed_same_report(tmp_path: Path) -> None:
    paths = write_case(tmp_path / "case")
    assert fairness(paths, tmp_path / "a", "--min-group-size", "1").exit_code == 0
    assert fairness(paths, tmp_path / "b", "--min-group-size", "1").exit_code == 0
    assert (tmp_path / "a" / "fairness.json").read_text() == (tmp_path / "b" / "fairness.json").read_text()


def test_csv_matches_with_guarded_ids_are_read_back(tmp_path: Path) -> None:
    """A match-registry CSV guards a formula-like firm id (``=F1`` → ``'=F1``); the report finds
    the firm in the registry under its own id."""
    paths = write_case(tmp_path / "case", suffix=".csv")
    registry = pd.read_csv(paths["registry"], dtype=str)
    registry.loc[0, "firm_id"] = "=F1"
    registry.to_csv(paths["registry"], index=False)
    matches = matches_frame()
    matches.loc[matches["firm_id"] == "F1", "firm_id"] = "'=F1"
    matches.to_csv(paths["matches"], index=False)
    result = fairness(paths, tmp_path / "out", "--min-group-size", "1")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "fairness.json").read_text(encoding="utf-8"))
    assert report["overall"]["rules"]["eligible_share"]["value"] == pytest.approx(4 / 6)


def _without(column: str):  # type: ignore[no-untyped-def]
    return matches_frame().drop(columns=[column])


def _with(column: str, row: int, value: object):  # type: ignore[no-untyped-def]
    frame = matches_frame().astype({column: object})
    frame.loc[row, column] = value
    return frame


@pytest.mark.parametrize(("matches", "message"), [
    (_without("verdict"), "matches.csv: column verdict: required column missing"),
    (_without("estimated_benefit"), "matches.csv: column estimated_benefit: required column missing"),
    (_with("verdict", 2, "maybe"), "matches.csv row 3: column verdict: 'maybe' is not one of eligible, "
                                   "undetermined, ineligible"),
    (_with("rank", 1, "first"), "matches.csv row 2: column rank: 'first' is not a whole number >= 0"),
    (_with("rank", 1, "1.5"), "matches.csv row 2: column rank: '1.5' is not a whole number >= 0"),
    (_with("estimated_benefit", 0, "lots"), "matches.csv row 1: column estimated_benefit: 'lots' is not a number"),
    (_with("approval_probability", 0, "1.2"), "matches.csv row 1: column approval_probability: must be between 0 "
                                              "and 1"),
    (_with("firm_id", 4, ""), "matches.csv row 5: column firm_id: empty value"),
    (_with("firm_id", 4, "NOPE"), "registry.csv: column firm_id: 1 firms of the matches are not in this registry "
                                  "(first: 'NOPE'); give the registry the matches were made from"),
    (matches_frame().iloc[:0], "matches.csv: the matches have no rows"),
])
def test_bad_matches_exit_2_naming_file_and_column(tmp_path: Path, matches: pd.DataFrame, message: str) -> None:
    paths = write_case(tmp_path / "case", matches=matches, suffix=".csv")
    result = fairness(paths, tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not (tmp_path / "out" / "fairness.json").exists()


def test_bad_outcomes_and_missing_files_exit_2(tmp_path: Path) -> None:
    paths = write_case(tmp_path / "case")
    pd.DataFrame({"firm_id": ["F1"], "policy_id": ["P1"], "event_date": ["2023-01-01"],
                  "outcome": ["granted"]}).to_csv(paths["outcomes"], index=False)
    result = fairness(paths, tmp_path / "out", "--outcomes", str(paths["outcomes"]))
    assert result.exit_code == 2
    assert "outcomes.csv: field outcome: 'granted' is not one of approved, rejected, applied" in result.stderr
    missing = {**paths, "registry": tmp_path / "nowhere.csv"}
    result = fairness(missing, tmp_path / "out")
    assert result.exit_code == 2 and "nowhere.csv: file not found" in result.stderr
    text = {**paths, "matches": paths["registry"].with_suffix(".json")}
    text["matches"].write_text("{}")
    result = fairness(text, tmp_path / "out")
    assert result.exit_code == 2 and "registry.json: unsupported type '.json' (use .csv or .parquet)" in result.stderr


@pytest.mark.parametrize("option", [("--min-group-size", "0"), ("--reps", "0"), ("--rank-k", "0")])
def test_out_of_range_options_exit_2(tmp_path: Path, option: tuple[str, str]) -> None:
    paths = write_case(tmp_path / "case")
    result = fairness(paths, tmp_path / "out", *option)
    assert result.exit_code == 2
    assert option[0] in result.output


def test_report_of_a_real_match_registry_run(tmp_path: Path) -> None:
    """match-registry over the sample firms with one bad row of each kind and a duplicate id,
    then fairness over its output: every matched firm is counted once, the rejected rows are
    in neither file, and the overall figures equal those computed straight from the output."""
    frame, good = planted_registry()
    registry = write_registry(frame, tmp_path / "registry.csv")
    out = tmp_path / "matches.parquet"
    ran = run("match-registry", str(registry), "--out", str(out), "--as-of", "2022-06-30", "--top-k", "3", "--quiet")
    assert ran.exit_code == 0, ran.output
    result = run("fairness", "--matches", str(out), "--registry", str(registry), "--out", str(tmp_path / "f"),
                 "--min-group-size", "1", "--reps", "50")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "f" / "fairness.json").read_text(encoding="utf-8"))
    assert (report["inputs"]["firms"], report["inputs"]["registry_firms_not_matched"]) == (good, 0)
    assert report["inputs"]["shown_per_firm"] <= 3
    rows = pd.read_parquet(out)
    eligible = rows[rows["verdict"] == "eligible"].groupby("firm_id").size().reindex(rows["firm_id"].unique(),
                                                                                       fill_value=0)
    top = rows[rows["rank"] == 1].set_index("firm_id")["verdict"].eq("eligible").reindex(eligible.index,
                                                                                           fill_value=False)
    overall = report["overall"]
    assert overall["firms"] == good
    assert overall["rules"]["eligible_share"]["value"] == pytest.approx((eligible > 0).mean())
    assert overall["rules"]["mean_eligible"]["value"] == pytest.approx(eligible.mean())
    assert overall["result"]["top_eligible_share"]["value"] == pytest.approx(top.mean())
    assert sum(r["firms"] for r in report["by_group"]["region_code"]) == good
