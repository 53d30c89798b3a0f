"""Train the learned ranker on a synthetic registry and print the figures the issue asks for.

Usage: ``.venv/bin/python benchmarks/train_bench.py [--firms 50000] [--seed 0] [--out var/bench]``.
Prints synth time, training time (fit only and end to end), NDCG@5/10 of LambdaRank and every
baseline on the held-out later year, the margin over the best baseline, and the approval ECE.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from recommender.rules.catalog import load_catalog
from recommender.profile.reference import load_reference
from recommender.learning.synth import write_synthetic
from recommender.learning.training import file_hash, read_interactions, train
from recommender.profile import read_registry


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--firms", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("var/bench"))
    args = ap.parse_args()
    catalog, ref = load_catalog(), load_reference()
    t0 = time.perf_counter()
    reg, ev = write_synthetic(args.out / "data", args.firms, 4, args.seed, catalog, ref, dt.date(2023, 12, 31))
    synth_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    profiles, events = read_registry(reg, ref, strict=True)[0].drop(columns="_row"), read_interactions(ev)
    read_s = time.perf_counter() - t1
    t1 = time.perf_counter()
    result = train(profiles, events, catalog, ref, dt.date(2023, 1, 1), args.out / "model",
                   training_data_hash=file_hash(reg, ev), seed=args.seed)
    total_s = time.perf_counter() - t1 + read_s
    table = result.metrics["models"]
    print(f"firms {args.firms}, policies {len(catalog)}, synth {synth_s:.1f} s")
    print(f"training: fit {result.metrics['fit_seconds']:.1f} s (pairs + features + ranker + calibrated "
          f"classifier), end to end with evaluation {total_s:.1f} s")
    print(f"{'model':<12}{'ndcg@5':>10}{'ndcg@10':>10}")
    for name, row in table.items():
        print(f"{name:<12}{row['ndcg@5']:>10.4f}{row['ndcg@10']:>10.4f}")
    best = max(v["ndcg@10"] for k, v in table.items() if k != "lambdarank")
    print(f"LambdaRank NDCG@10 − best baseline: {table['lambdarank']['ndcg@10'] - best:+.4f} (target ≥ +0.03)")
    print(f"approval ECE: {result.metrics['approval_ece']:.4f} (target ≤ 0.05)")


if __name__ == "__main__":
    main()
