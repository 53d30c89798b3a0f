"""Fairness-report benchmark (issue 22 item 4): time and peak memory of ``fairness_report`` on
a 1M-firm match output. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/fairness.py                  # 1M firms, ~5 rows each
    .venv/bin/python benchmarks/fairness.py --firms 100000   # quick look

The registry (firm_id and the group sources: district, industry, ownership, employees,
revenue, total assets) and the match output are drawn at random (seed 0), not matched: the
report reads them as it reads any ``match-registry`` output, so the figure is the report's own
cost (reading and validating the registry, the per-firm table, the groups, MetricFrame, the
bootstrap, the HTML). With ``--outcomes`` an interactions file of 0.3 decided applications per
firm is added. Files are cached under ``benchmarks/.cache/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recommender.fairness import FairnessSettings, render_html  # noqa: E402
from recommender.fairness import run as fairness_run  # noqa: E402
from recommender.profile import load_reference  # noqa: E402

OWNERSHIP = ["private", "private", "private", "private", "state", "foreign", "collective", "other", None]


def build(folder: Path, firms: int, outcomes: bool) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    registry, matches, log = folder / f"registry-{firms}.parquet", folder / f"matches-{firms}.parquet", \
        folder / f"outcomes-{firms}.parquet"
    if registry.exists() and matches.exists() and (log.exists() or not outcomes):
        return {"registry": registry, "matches": matches, "outcomes": log}
    rng = np.random.default_rng(0)
    ref = load_reference()
    districts = sorted(c for c in ref.region_names if c.startswith("5001") or c.startswith("5002"))
    classes = sorted(c for c in ref.industry_names if len(c) == 5)        # section + 4 digits
    industries = rng.choice(classes, 60, replace=False)
    ids = np.array([f"F{i:07d}" for i in range(firms)], dtype=object)
    employees = rng.lognormal(3, 1.2, firms).round()
    pd.DataFrame({
        "firm_id": ids,
        "region_code": rng.choice(districts, firms),
        "industry_code": rng.choice(industries, firms),
        "ownership": rng.choice(np.array(OWNERSHIP, dtype=object), firms),
        "employees": np.where(rng.random(firms) < 0.05, np.nan, employees),
        "revenue": employees * rng.lognormal(12.5, 1.0, firms),
        "total_assets": employees * rng.lognormal(12.8, 1.0, firms),
    }).to_parquet(registry, index=False)
    shown = rng.integers(0, 11, firms)                       # 0 to 10 policies shown per firm
    firm_of = np.repeat(np.arange(firms), np.maximum(shown, 1))
    rank = np.concatenate([np.arange(1, k + 1) if k else [0] for k in shown])
    eligible = rng.random(len(rank)) < 0.45
    policy = np.where(rank > 0, np.char.add("P", rng.integers(1, 78, len(rank)).astype(str)), "")
    benefit = np.where(rng.random(len(rank)) < 0.8, rng.lognormal(10, 1.5, len(rank)), np.nan)
    pd.DataFrame({
        "firm_id": ids[firm_of], "rank": rank.astype(np.int32), "policy_id": policy,
        "verdict": np.where(rank == 0, "", np.where(eligible, "eligible", "undetermined")),
        "score": rng.random(len(rank)), "approval_probability": np.where(rank > 0, rng.random(len(rank)), np.nan),
        "estimated_benefit": np.where(rank > 0, benefit, np.nan),
    }).to_parquet(matches, index=False)
    if outcomes:
        picked = rng.choice(np.flatnonzero(rank > 0), int(0.3 * firms), replace=False)
        pd.DataFrame({"firm_id": ids[firm_of[picked]], "policy_id": policy[picked],
                      "event_date": "2023-03-01",
                      "outcome": np.where(rng.random(len(picked)) < 0.6, "approved", "rejected")}
                     ).to_parquet(log, index=False)
    return {"registry": registry, "matches": matches, "outcomes": log}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--outcomes", action="store_true")
    args = parser.parse_args()
    paths = build(ROOT / "benchmarks" / ".cache" / "fairness", args.firms, args.outcomes)
    ref = load_reference()
    settings = FairnessSettings(reps=args.reps)
    clock: list[tuple[float, float]] = [(time.perf_counter(), time.process_time())]

    def lap() -> str:
        """Wall and CPU seconds since the last lap (other jobs share the machine: CPU is the steadier)."""
        clock.append((time.perf_counter(), time.process_time()))
        (w0, c0), (w1, c1) = clock[-2], clock[-1]
        return f"{w1 - w0:6.1f} s wall, {c1 - c0:6.1f} s CPU"

    firms, shown = fairness_run.read_matches(paths["matches"], 1)
    t_matches = lap()
    groups, _ = fairness_run.read_groups(paths["registry"], firms, ref)
    t_registry = lap()
    apps = fairness_run.read_applications(paths["outcomes"], firms, shown) if args.outcomes else None
    t_outcomes = lap()
    figures = fairness_run.group_report(firms, apps, groups, settings)
    t_metrics = lap()
    whole = fairness_run.fairness_report(paths["matches"], paths["registry"], ref, settings=settings,
                                         outcomes=paths["outcomes"] if args.outcomes else None)
    t_report = lap()
    page = render_html(whole)
    t_html = lap()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{firms.n:,} firms, {firms.match_rows:,} match rows, {args.reps} replicates"
          + (f", {len(apps.firm):,} decided applications" if apps is not None else ""))
    print(f"read matches     {t_matches}")
    print(f"read registry    {t_registry}  (validated as match-registry reads it)")
    if apps is not None:
        print(f"read outcomes    {t_outcomes}")
    print(f"metrics + CIs    {t_metrics}  ({sum(len(v) for v in figures['by_group'].values())} groups)")
    print(f"whole report     {t_report}  (all of the above again, in one call)")
    print(f"HTML             {t_html}  ({len(page) / 1e6:.1f} MB)")
    print(f"peak memory      {peak:6.0f} MiB")


if __name__ == "__main__":
    main()
