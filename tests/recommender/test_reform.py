"""The policy sandbox (issue 22): a reform's results equal two independent full evaluations
(match-registry over the baseline catalog and over a catalog directory edited by hand), every
row is accounted for, a bad path is refused naming it, the report is self-contained."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from recommender.bulk.run import run_registry
from recommender.errors import CatalogError
from recommender.reform import (parse_changes, read_changes, reform_from_catalog, reform_from_changes,
                                run_reform)
from recommender.rules import load_catalog
from tests.recommender.registry_kit import PLANTED
from tests.recommender.reform_kit import CATALOG, SCENARIOS, Scenario, catalog_copy, mixed_registry
from tests.strategies import catalog_and_ref

VERDICTS = ("ineligible", "undetermined", "eligible")


def _full(registry: Path, catalog_dir: Path, out: Path, as_of) -> tuple[dict, dict[tuple[str, str], tuple[str, float]]]:
    """match-registry with every eligible/undetermined policy listed: (summary, {(firm, policy): (verdict, benefit)})."""
    _, ref = catalog_and_ref()
    summary = run_registry(registry, out, catalog=load_catalog(catalog_dir), ref=ref, as_of=as_of, top_k=500,
                           chunk_rows=40, threads=1)
    table = pd.read_parquet(out)
    listed = {(r.firm_id, r.policy_id): (r.verdict, None if pd.isna(r.estimated_benefit) else r.estimated_benefit)
              for r in table.itertuples() if r.policy_id}
    return summary, listed


def _expected(firms: list[str], pid: str, before: dict, after: dict) -> dict:
    counts = {side: dict.fromkeys(VERDICTS, 0) for side in ("before", "after")}
    moves = {f"{a}->{b}": 0 for a in VERDICTS for b in VERDICTS}
    cost = {"before": 0.0, "after": 0.0}
    for firm in firms:
        vb, bb = before.get((firm, pid), ("ineligible", None))
        va, ba = after.get((firm, pid), ("ineligible", None))
        counts["before"][vb] += 1
        counts["after"][va] += 1
        moves[f"{vb}->{va}"] += 1
        cost["before"] += bb if vb == "eligible" and bb is not None else 0.0
        cost["after"] += ba if va == "eligible" and ba is not None else 0.0
    return {"before": counts["before"], "after": counts["after"], "transitions": moves,
            "cost_before": pytest.approx(cost["before"], abs=0.05), "cost_after": pytest.approx(cost["after"], abs=0.05)}


def _expected_by_region(frame: pd.DataFrame, firms: list[str], touched: tuple[str, ...], before: dict,
                        after: dict) -> dict:
    """by_group.region_code counted firm by firm: a firm gains when some touched policy goes from
    ineligible to anything else, loses when one goes the other way; its cost delta is what its
    eligible policies pay after less before."""
    def paid(verdict: str, benefit: float | None) -> float:
        return benefit if verdict == "eligible" and benefit is not None else 0.0
    region = frame.drop_duplicates("firm_id").set_index("firm_id")["region_code"]
    groups: dict[str, dict] = {}
    for firm in firms:
        key = "unknown" if pd.isna(region[firm]) else str(region[firm])
        row = groups.setdefault(key, {"firms": 0, "gained": 0, "lost": 0, "cost_delta": 0.0})
        sides = [(before.get((firm, pid), ("ineligible", None)), after.get((firm, pid), ("ineligible", None)))
                 for pid in touched]
        row["firms"] += 1
        row["gained"] += any(vb == "ineligible" != va for (vb, _), (va, _) in sides)
        row["lost"] += any(va == "ineligible" != vb for (vb, _), (va, _) in sides)
        row["cost_delta"] += sum(paid(*a) - paid(*b) for b, a in sides)
    return {key: {**row, "cost_delta": pytest.approx(row["cost_delta"], abs=0.05)}
            for key, row in sorted(groups.items())}


@pytest.fixture(scope="module")
def hand_catalogs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("catalogs")
    return {s.name: catalog_copy(root, s) for s in SCENARIOS}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.generate])      # a shrink of whole registries takes minutes
@given(seed=st.integers(0, 10_000), firms=st.integers(20, 160))
def test_reform_equals_two_independent_full_evaluations(scenario: Scenario, hand_catalogs, seed: int,
                                                        firms: int) -> None:
    _, ref = catalog_and_ref()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        registry = work / "registry.csv"
        frame = mixed_registry(firms, seed)
        frame.to_csv(registry, index=False)
        base_summary, before = _full(registry, CATALOG, work / "before.parquet", scenario.as_of)
        _, after = _full(registry, hand_catalogs[scenario.name], work / "after.parquet", scenario.as_of)
        plan = reform_from_changes(CATALOG, parse_changes(scenario.changes), ref)
        summary = run_reform(registry, work / "out", reform=plan, ref=ref, as_of=scenario.as_of, chunk_rows=40,
                             threads=2, report=False)

        assert plan.touched == scenario.touched
        assert plan.reformed.version != plan.base.version
        # the policies the reform does not touch agree in the two full evaluations
        untouched = {k: v for k, v in before.items() if k[1] not in plan.touched}
        assert untouched == {k: v for k, v in after.items() if k[1] not in plan.touched}
        # every row accounted for, exactly as match-registry counts them
        assert (summary["rows_read"], summary["firms"], summary["rows_rejected"]) == (
            base_summary["rows_read"], base_summary["firms_matched"], base_summary["rows_rejected"])
        assert summary["rows_read"] == summary["firms"] + summary["rows_rejected"] == len(frame)
        assert summary["rows_rejected"] == len(PLANTED) + 1                # and the duplicate id
        firm_ids = sorted(pd.read_parquet(work / "before.parquet")["firm_id"].unique())
        for pid in plan.touched:
            assert summary["policies"][pid] == _expected(firm_ids, pid, before, after)
        # firms.parquet: every (firm, policy) whose verdict moved, with both sides' figures
        changed = pd.read_parquet(work / "out" / "firms.parquet")
        moved = {(r.firm_id, r.policy_id, r.verdict_before, r.verdict_after)
                 for r in changed.itertuples() if r.verdict_before != r.verdict_after}
        expected_moves = set()
        for firm in firm_ids:
            for pid in plan.touched:
                vb = before.get((firm, pid), ("ineligible",))[0]
                va = after.get((firm, pid), ("ineligible",))[0]
                if vb != va:
                    expected_moves.add((firm, pid, vb, va))
        assert moved == expected_moves
        listed = changed[changed["verdict_after"] != "ineligible"]
        for r in listed.itertuples():
            benefit = after[(r.firm_id, r.policy_id)][1]
            assert (benefit is None and pd.isna(r.benefit_after)) or benefit == pytest.approx(r.benefit_after)
        # by_group sums to the whole
        for name, groups in summary["by_group"].items():
            assert sum(g["firms"] for g in groups.values()) == summary["firms"], name
        # and each district's firms, gains and losses are those of the two full evaluations
        assert summary["by_group"]["region_code"] == _expected_by_region(frame, firm_ids, plan.touched, before, after)
        # the rejects are match-registry's
        pd.testing.assert_frame_equal(pd.read_csv(work / "out" / "rejects.csv", dtype=str),
                                      pd.read_csv(work / "before.rejects.csv", dtype=str))
