"""Fairness metrics against the hand-worked case of ``fairness_kit``; the split of a gap into
what the rules make and what the ranking adds; suppression of small groups.

The case, per firm (eligible policies shown · rank-1 eligible · benefit of eligible, yuan):
F1 渝北 private micro C: P1, P3 · yes · 100 (P3 has no estimate) — F2 渝北 private micro C:
P1 · no (P2 undetermined first) · 200 — F3 渝北 state micro C: no match · · 0 — F4 万州
private micro C: P1 · yes · 300 — F5 万州 state micro A: none (P3 undetermined) · no · 0 —
F6 万州 ownership and size unknown, C: P4, P1 · yes · 1,500.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from .fairness_kit import matches_frame, write_case

from recommender.fairness import FairnessSettings, fairness_report, suppressed_groups
from recommender.fairness.inputs import FirmTable, Grouping
from recommender.fairness.metrics import group_report
from recommender.profile import ReferenceTables


def report(tmp_path: Path, ref: ReferenceTables, minimum: int = 1, **kw: Any) -> dict[str, Any]:
    paths = write_case(tmp_path / "case", **kw)
    return fairness_report(paths["matches"], paths["registry"], ref, outcomes=paths["outcomes"],
                           settings=FairnessSettings(min_group_size=minimum, reps=200))


def values(row: dict[str, Any]) -> dict[str, float | None]:
    return {name: figure["value"] for part in ("rules", "ranking", "result", "outcomes")
            for name, figure in row.get(part, {}).items() if name != "gap_split"}


def group(rep: dict[str, Any], column: str, key: str) -> dict[str, Any]:
    return next(row for row in rep["by_group"][column] if row["group"] == key)


def test_overall_figures_equal_the_hand_computed_ones(tmp_path: Path, ref: ReferenceTables) -> None:
    rep = report(tmp_path, ref)
    assert rep["overall"]["firms"] == 6
    assert values(rep["overall"]) == pytest.approx({
        "eligible_share": 4 / 6, "mean_eligible": 6 / 6, "recommended_share": 3 / 4, "top_eligible_share": 3 / 6,
        "mean_benefit": 2100 / 6,
        "approval_rate": 2 / 4,                                    # F1·P1 ✓, F1·P3 ✗, F2·P1 ✓, F5·P9 ✗
        "calibration_gap": ((0.8 - 1) + (0.4 - 0) + (0.6 - 1)) / 3})  # F5·P9 was not shown: no prediction
    assert rep["inputs"] == {
        "matches": "matches.parquet", "registry": "registry.csv", "outcomes": "outcomes.csv", "match_rows": 10,
        "firms": 6, "registry_firms_not_matched": 0, "shown_per_firm": 3, "firms_with_full_lists": 1,
        "applications": {"rows_read": 6, "decided": 4, "undecided": 1, "other_firms": 1, "with_prediction": 3}}


def test_groups_by_district_size_ownership_and_section(tmp_path: Path, ref: ReferenceTables) -> None:
    rep = report(tmp_path, ref)
    assert [(r["group"], r["label"], r["firms"]) for r in rep["by_group"]["region_code"]] == [
        ("500101", "万州区 500101", 3), ("500112", "渝北区 500112", 3)]
    assert [(r["group"], r["label"], r["firms"]) for r in rep["by_group"]["size_class"]] == [
        ("micro", "微型 micro", 5), ("unknown", "未知", 1)]
    assert [(r["group"], r["label"], r["firms"]) for r in rep["by_group"]["ownership"]] == [
        ("private", "民营 private", 3), ("state", "国有 state", 2), ("unknown", "未知", 1)]
    assert [(r["group"], r["label"], r["firms"]) for r in rep["by_group"]["industry_section"]] == [
        ("A", "农、林、牧、渔业 A", 1), ("C", "制造业 C", 5)]
    assert values(group(rep, "region_code", "500112")) == pytest.approx({
        "eligible_share": 2 / 3, "mean_eligible": 1.0, "recommended_share": 1 / 2, "top_eligible_share": 1 / 3,
        "mean_benefit": 100.0, "approval_rate": 2 / 3, "calibration_gap": -0.2 / 3})
    state = group(rep, "ownership", "state")
    assert values(state) == pytest.approx({
        "eligible_share": 0.0, "mean_eligible": 0.0, "recommended_share": None, "top_eligible_share": 0.0,
        "mean_benefit": 0.0, "approval_rate": 0.0, "calibration_gap": None})
    assert state["ranking"]["recommended_share"]["withheld"] == "fewer than 1 firms with an eligible policy"


def test_differences_and_ratios_are_against_the_overall_figure(tmp_path: Path, ref: ReferenceTables) -> None:
    rep = report(tmp_path, ref)
    benefit = group(rep, "region_code", "500101")["result"]["mean_benefit"]
    assert (benefit["value"], benefit["difference"], benefit["ratio"]) == pytest.approx((600.0, 250.0, 600 / 350))
    top = group(rep, "ownership", "state")["result"]["top_eligible_share"]
    assert (top["difference"], top["ratio"]) == pytest.approx((-0.5, 0.0))


def test_a_gap_the_ranking_makes_is_kept_apart_from_the_rules(tmp_path: Path, ref: ReferenceTables) -> None:
    """Both districts have 2 of 3 firms eligible; only the ranking differs (渝北's F2 is shown
    an undetermined policy first), so the whole gap is the ranking's."""
    rep = report(tmp_path, ref)
    yubei, wanzhou = group(rep, "region_code", "500112"), group(rep, "region_code", "500101")
    assert yubei["rules"]["eligible_share"]["difference"] == pytest.approx(0.0)
    assert yubei["ranking"]["gap_split"] == pytest.approx({"total": -1 / 6, "from_rules": 0.0,
                                                           "from_ranking": -1 / 6})
    assert wanzhou["ranking"]["gap_split"] == pytest.approx({"total": 1 / 6, "from_rules": 0.0,
                                                             "from_ranking": 1 / 6})
    # private firms: all eligible (the rules favour them, +1/3 × 3/4) but one is shown an
    # undetermined policy first (the ranking takes back 1 × (2/3 − 3/4)).
    assert group(rep, "ownership", "private")["ranking"]["gap_split"] == pytest.approx(
        {"total": 1 / 6, "from_rules": 0.25, "from_ranking": -1 / 12})


def test_a_gap_the_rules_make_shows_no_ranking_part(tmp_path: Path, ref: ReferenceTables) -> None:
    """Every firm with an eligible policy is shown one first: the ranking adds nothing."""
    matches = matches_frame()
    matches.loc[matches["firm_id"] == "F2", "rank"] = [2, 1]
    rep = report(tmp_path, ref, matches=matches)
    assert rep["overall"]["ranking"]["recommended_share"]["value"] == 1.0
    for row in rep["by_group"]["ownership"]:
        split = row["ranking"]["gap_split"]
        if split is not None:
            assert split["from_ranking"] == pytest.approx(0.0)
            assert split["from_rules"] == pytest.approx(split["total"])
    assert group(rep, "ownership", "private")["ranking"]["gap_split"]["from_rules"] == pytest.approx(1 / 3)


def test_rank_k_counts_an_eligible_policy_further_down(tmp_path: Path, ref: ReferenceTables) -> None:
    paths = write_case(tmp_path / "case")
    rep = fairness_report(paths["matches"], paths["registry"], ref, rank_k=2,
                          settings=FairnessSettings(min_group_size=1, reps=50))
    assert rep["overall"]["ranking"]["recommended_share"]["value"] == 1.0    # F2's P1 is at rank 2
    assert rep["method"]["rank_k"] == 2
    assert "outcomes" not in rep["overall"] and "approval_rate" not in rep["metrics"]


@pytest.mark.parametrize(("counts", "hidden"), [
    ([30, 31, 100], [False, False, False]),         # at and above the minimum: shown
    ([29, 29, 100], [True, True, False]),           # below: suppressed (together 58 firms)
    ([29, 30, 31], [True, True, False]),            # one below: the next smallest goes with it
    ([50, 10, 40, 100], [False, True, True, False]),
    ([10, 5], [True, True]),                        # nothing can protect them: all suppressed
])
def test_small_groups_are_suppressed_with_a_partner(counts: list[int], hidden: list[bool]) -> None:
    assert suppressed_groups(np.array(counts), 30).tolist() == hidden


@pytest.mark.parametrize(("minimum", "shown"), [(1, ["private", "state", "unknown"]), (2, ["private"]),
                                                (3, ["private"]), (4, [])])
def test_suppressed_groups_carry_no_figure(tmp_path: Path, ref: ReferenceTables, minimum: int,
                                           shown: list[str]) -> None:
    """Ownership groups hold 3 (private), 2 (state) and 1 (unknown) firms. Minimum 2: the
    unknown firm is hidden, and alone it could be recovered from the overall figures, so the
    state group is hidden too. Minimum 3: both are under it (together 3). Minimum 4: all."""
    rep = report(tmp_path, ref, minimum=minimum)
    rows = rep["by_group"]["ownership"]
    assert [r["group"] for r in rows if not r["suppressed"]] == shown
    for row in rows:
        if row["suppressed"]:
            assert set(row) == {"group", "label", "suppressed"}
    assert rep["overall"].get("suppressed") is False


def test_a_registry_smaller_than_the_minimum_shows_nothing(tmp_path: Path, ref: ReferenceTables) -> None:
    rep = report(tmp_path, ref, minimum=7)
    assert rep["overall"] == {"group": "all", "suppressed": True}
    assert all(r["suppressed"] for rows in rep["by_group"].values() for r in rows)


def test_a_figure_over_too_few_units_is_withheld(tmp_path: Path, ref: ReferenceTables) -> None:
    """Minimum 3: 渝北 (3 firms) is shown, but only 2 of its firms have an eligible policy."""
    rep = report(tmp_path, ref, minimum=3)
    yubei = group(rep, "region_code", "500112")
    assert yubei["rules"]["eligible_share"]["value"] == pytest.approx(2 / 3)
    assert yubei["ranking"]["recommended_share"] == {
        "value": None, "ci": None, "n": None, "withheld": "fewer than 3 firms with an eligible policy",
        "difference": None, "ratio": None}
    assert yubei["ranking"]["gap_split"] is None
    assert yubei["outcomes"]["approval_rate"]["value"] == pytest.approx(2 / 3)   # 3 decided applications


@given(st.integers(min_value=1, max_value=80), st.integers(min_value=1, max_value=5), st.integers(0, 2**32 - 1))
@settings(max_examples=25, deadline=None)
def test_group_figures_equal_a_plain_groupby(n: int, n_groups: int, seed: int) -> None:
    """Whatever the firms, each shown group's figures (MetricFrame over per-group sums and
    counts) equal pandas' mean over the group's own firms, and the overall ones the mean
    over all firms."""
    rng = np.random.default_rng(seed)
    n_eligible = rng.integers(0, 4, n).astype(float)
    has = n_eligible > 0
    firms = FirmTable(firm_ids=np.array([f"F{i}" for i in range(n)], dtype=object), n_eligible=n_eligible,
                      top_eligible=(has & (rng.random(n) < 0.7)).astype(float),
                      recommended=(has & (rng.random(n) < 0.8)).astype(float),
                      benefit=np.where(has, rng.lognormal(8, 1, n), 0.0), match_rows=n, shown_max=3,
                      full_lists=0, rank_k=1)
    raw = rng.integers(0, n_groups, n)
    keys = sorted(set(raw.tolist()))
    grouping = Grouping("ownership", np.searchsorted(keys, raw), tuple(map(str, keys)), tuple(map(str, keys)))
    got = group_report(firms, None, {"ownership": grouping}, FairnessSettings(min_group_size=1, reps=20))
    frame = pd.DataFrame({"g": raw, "eligible_share": has.astype(float), "mean_eligible": n_eligible,
                          "top_eligible_share": firms.top_eligible, "mean_benefit": firms.benefit,
                          "recommended_share": np.where(has, firms.recommended, np.nan)})
    for row, part in [(got["overall"], frame), *((r, frame[frame["g"] == int(r["group"])])
                                                 for r in got["by_group"]["ownership"])]:
        assert row["firms"] == len(part)
        for name, value in values(row).items():
            expected = part[name].mean()                 # NaN: no firm with an eligible policy
            assert (value is None) == bool(np.isnan(expected)), name
            if value is not None:
                assert value == pytest.approx(expected), name
