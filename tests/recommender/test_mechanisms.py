"""The generator zoo (``recommender synth --mechanism``): each mechanism is deterministic for a
seed and shows the property its docstring claims; the default's output is pinned."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from recommender.cli.main import app
from recommender.engine import evaluate_catalog
from recommender.learning.mechanisms import MECHANISMS, Taste, make_mechanism
from recommender.learning.synth import generate_interactions, generate_registry, registry_to_parquet_frame, year_as_of
from recommender.profile.frame import coerce_frame
from recommender.profile.reference import ReferenceTables, load_reference
from recommender.ranking import margin_summary
from recommender.rules.catalog import Catalog, load_catalog
from recommender.settings import DEFAULT_DATA_DIR

LTR_CATALOG = Path(__file__).resolve().parent / "ltr_catalog"
END = dt.date(2022, 12, 31)
YEARS = 4
DEFAULT_SHA256 = "d9dc1feea58ef22eedca80b36710764f54974fe64aa300bc50faf25ec509dd2d"
"""sha256 of the CSV text of the registry and history below, computed with the generator
before the zoo existed (commit 2b867e0): the default mechanism must keep producing it."""


@pytest.fixture(scope="module")
def ltr() -> tuple[Catalog, ReferenceTables]:
    return load_catalog(LTR_CATALOG), load_reference(DEFAULT_DATA_DIR)


@pytest.fixture(scope="module")
def world(ltr: tuple[Catalog, ReferenceTables]) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """2,000 firms; per (year, policy) the smallest margin of every firm, as a long frame
    keyed by (year, policy, firm); and the number of in-force (firm, policy, year) pairs."""
    catalog, ref = ltr
    reg = generate_registry(2000, 5, END)
    typed = coerce_frame(reg)
    rows, pairs = [], 0
    for year in range(END.year - YEARS + 1, END.year + 1):
        elig = evaluate_catalog(catalog, typed, year_as_of(year), ref)
        for o in elig.outcomes.values():
            h = o.policy.header
            if o.in_force and h.valid_from <= dt.date(year, 12, 31):
                pairs += len(reg)
            rows.append(pd.DataFrame({"year": year, "policy_id": o.policy.id, "firm_id": reg["firm_id"],
                                      "margin": np.nan_to_num(margin_summary(o, elig)[0], nan=0.0)}))
    return reg, pd.concat(rows, ignore_index=True), pairs


def _history(world: tuple[pd.DataFrame, pd.DataFrame, int], ltr: tuple[Catalog, ReferenceTables],
             mechanism: str) -> pd.DataFrame:
    """Decided applications with ``year``, ``approved`` (0/1) and the pair's ``margin``."""
    reg, margins, _ = world
    catalog, ref = ltr
    ev = generate_interactions(reg, catalog, ref, YEARS, 5, END, mechanism=mechanism)
    ev = ev.loc[ev["outcome"] != "applied"].assign(year=pd.to_datetime(ev["event_date"]).dt.year,
                                                   approved=lambda d: (d["outcome"] == "approved").astype(int))
    return ev.merge(margins, on=["year", "policy_id", "firm_id"], how="left", validate="many_to_one")


def test_the_default_mechanism_writes_what_the_generator_wrote_before_the_zoo(
        ltr: tuple[Catalog, ReferenceTables]) -> None:
    catalog, ref = ltr
    reg = generate_registry(400, 11, END)
    for events in (generate_interactions(reg, catalog, ref, 3, 11, END),
                   generate_interactions(reg, catalog, ref, 3, 11, END, mechanism="margins")):
        text = registry_to_parquet_frame(reg).to_csv(index=False) + events.to_csv(index=False)
        assert hashlib.sha256(text.encode()).hexdigest() == DEFAULT_SHA256


@pytest.mark.parametrize("mechanism", sorted(MECHANISMS))
def test_each_mechanism_is_fixed_by_its_seed(mechanism: str, ltr: tuple[Catalog, ReferenceTables]) -> None:
    catalog, ref = ltr
    reg = generate_registry(500, 3, END)
    a = generate_interactions(reg, catalog, ref, 3, 3, END, mechanism=mechanism)
    b = generate_interactions(reg, catalog, ref, 3, 3, END, mechanism=mechanism)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) > 50
    assert not a.equals(generate_interactions(reg, catalog, ref, 3, 4, END, mechanism=mechanism))
    if mechanism != "margins":
        assert not a.equals(generate_interactions(reg, catalog, ref, 3, 3, END))


def test_trend_approvals_swing_across_years_and_ignore_the_margins(world, ltr) -> None:  # type: ignore[no-untyped-def]
    trend, margins = _history(world, ltr, "trend"), _history(world, ltr, "margins")

    def swing(ev: pd.DataFrame) -> float:
        """Median over policies of (most + 1) / (fewest + 1) approvals in a year it was in force."""
        per = ev.loc[ev["approved"] == 1].groupby(["policy_id", "year"]).size().unstack()
        return float(((per.max(axis=1) + 1) / (per.min(axis=1) + 1)).median())

    def corr(ev: pd.DataFrame) -> float:
        return float(np.corrcoef(ev["approved"], ev["margin"])[0, 1])

    assert swing(trend) > 10 > 2 > swing(margins)
    assert abs(corr(trend)) < 0.1 < 0.2 < corr(margins)


def test_taste_applicants_are_the_firms_with_a_taste_for_the_family(world, ltr) -> None:  # type: ignore[no-untyped-def]
    catalog, _ = ltr
    reg = world[0]
    ev = _history(world, ltr, "taste")
    taste = make_mechanism("taste", reg, [p.id for p in catalog], 5)
    assert isinstance(taste, Taste)
    family = {p.id: p.header.family for p in catalog}
    row = pd.Series(np.arange(len(reg)), index=reg["firm_id"])
    ev = ev.assign(taste=taste.taste[row[ev["firm_id"]].to_numpy(),
                                     [taste.families[family[p]] for p in ev["policy_id"]]])
    assert taste.taste.mean() == pytest.approx(0.0, abs=0.05)       # N(0, 1) over all firms
    assert ev["taste"].mean() > 1.0                                   # applicants: a strong taste
    assert ev.loc[ev["approved"] == 1, "taste"].mean() > ev.loc[ev["approved"] == 0, "taste"].mean()
    # drawn independently of the firm's figures: no correlation with its size or margins
    assert abs(np.corrcoef(taste.taste[:, 0], reg["_size"])[0, 1]) < 0.06
    assert abs(np.corrcoef(ev["approved"], ev["margin"])[0, 1]) < 0.2


def test_imbalanced_approves_under_two_percent_of_the_candidate_pairs(world, ltr) -> None:  # type: ignore[no-untyped-def]
    pairs = world[2]
    rare, default = _history(world, ltr, "imbalanced"), _history(world, ltr, "margins")
    assert rare["approved"].sum() / pairs < 0.02 < default["approved"].sum() / pairs
    assert rare["approved"].mean() < 0.35 < 0.8 < default["approved"].mean()   # of decided applications


def test_unknown_mechanism_is_refused(ltr: tuple[Catalog, ReferenceTables], tmp_path: Path) -> None:
    catalog, ref = ltr
    with pytest.raises(ValueError, match="unknown mechanism 'nope'; one of margins, trend, taste, imbalanced"):
        generate_interactions(generate_registry(10, 1, END), catalog, ref, 1, 1, END, mechanism="nope")
    result = CliRunner().invoke(app, ["synth", "--firms", "10", "--mechanism", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "error: --mechanism: 'nope' is not one of margins, trend, taste, imbalanced" in result.stderr


def test_synth_cli_writes_the_mechanism_asked_for(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("margins", "trend"):
        result = runner.invoke(app, ["synth", "--firms", "300", "--years", "2", "--seed", "2", "--mechanism", name,
                                     "--catalog", str(LTR_CATALOG), "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    registries = [pd.read_parquet(tmp_path / n / "registry.parquet") for n in ("margins", "trend")]
    pd.testing.assert_frame_equal(*registries)                        # one registry, two histories
    histories = [pd.read_parquet(tmp_path / n / "interactions.parquet") for n in ("margins", "trend")]
    assert not histories[0].equals(histories[1])
