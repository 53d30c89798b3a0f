"""The learned ranking on every history of the generator zoo, tested on the following year.

Usage::

    .venv/bin/python benchmarks/ltr_validation.py [--firms 3000 [--firms 10000 …]]
        [--mechanism trend …] [--years 5] [--test-year 2024] [--seed 0] [--trees 150] [--work DIR] [--json]

For each mechanism of ``recommender synth --mechanism`` (margins, trend, taste, imbalanced; see
``data/synthetic_data_card.md``) and each size, it writes a history with ``recommender synth``
(``--years`` ending with the test year: 2020–2024), trains through the public path, ``recommender
train`` (split on 1 January of the test year: fitted on the years before, tested on the test year —
a year ``train`` never reads while fitting), and prints per history the model ``train`` shipped
(its baseline gate, ``metrics["gate"]`` of the manifest; "n/a" for a model without one) with that
choice's NDCG@10 on the test year next to the learned ranker's
and every baseline's (popularity by approvals, rules, logistic), the best baseline and the
shipped choice's lead over it. ``--json`` prints the rows as JSON instead.

Figures, not checks: nothing is asserted. Default: 3,000 firms (about a minute a history on 2
cores). ``--firms`` takes sizes from 1,000 to 50,000 (50,000: several minutes a history).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MECHANISMS = ("margins", "trend", "taste", "imbalanced")
BASELINES = ("popularity", "rules", "logistic")
LEARNED = "lambdarank"
METRIC = "ndcg@10"


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "recommender.cli.main", *args], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def _figure(table: dict[str, Any], name: str | None) -> float | None:
    row = table.get(name) if name else None
    value = row.get(METRIC) if isinstance(row, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def summarise(manifest: dict[str, Any]) -> dict[str, Any]:
    """One table row from a trained model's manifest: the gate's choice (``None`` without a
    gate) and the test-year NDCG@10 of the learned ranker, each baseline and the choice."""
    metrics = manifest.get("metrics") or {}
    table = metrics.get("models") or {}
    gate = metrics.get("gate") if isinstance(metrics.get("gate"), dict) else None
    shipped = gate.get("shipped") if gate else None
    scores = {name: _figure(table, name) for name in (LEARNED, *BASELINES)}
    known = {k: v for k, v in scores.items() if k in BASELINES and v is not None}
    best = max(known, key=lambda k: known[k]) if known else None
    chosen = _figure(table, _table_name(shipped, table)) if shipped else None
    learned = scores[LEARNED]
    leads = metrics.get("test_leads") if isinstance(metrics.get("test_leads"), dict) else {}
    return {"shipped": shipped, "shipped_ndcg@10": chosen, **scores, "best_baseline": best,
            "lead_95": _interval(leads.get(shipped) if shipped else None),
            "learned_lead_95": _interval(leads.get(LEARNED)),
            "lead_over_best": None if chosen is None or best is None else chosen - known[best],
            "learned_lead": None if learned is None or best is None else learned - known[best],
            "model_version": manifest.get("model_version"),
            "gate_reason": gate.get("reason") if gate else None}


def _interval(lead: Any) -> str | None:
    """``lower to upper`` of a test-period lead (95 % paired bootstrap over firms), or ``None``."""
    if not isinstance(lead, dict):
        return None
    return f"{lead['lower']:+.4f} to {lead['upper']:+.4f}"

def _table_name(shipped: str, table: dict[str, Any]) -> str:
    """The metric-table row of the gate's choice: its own name, or the baseline it starts with
    (``popularity-…`` is the popularity baseline)."""
    if shipped in table:
        return shipped
    return next((name for name in table if shipped.startswith(name)), shipped)


def run_one(mechanism: str, firms: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    data = work / f"{mechanism}-{firms}"
    t0 = time.perf_counter()
    _cli("synth", "--firms", str(firms), "--years", str(args.years), "--seed", str(args.seed),
         "--end", f"{args.test_year}-12-31", "--mechanism", mechanism, "--out", str(data))
    t1 = time.perf_counter()
    _cli("train", "--firms", str(data / "registry.parquet"), "--interactions", str(data / "interactions.parquet"),
         "--until", f"{args.test_year}-01-01", "--seed", str(args.seed), "--trees", str(args.trees), "--out", str(data / "model"))
    t2 = time.perf_counter()
    manifest = json.loads((data / "model" / "manifest.json").read_text(encoding="utf-8"))
    return {"mechanism": mechanism, "firms": firms, **summarise(manifest),
            "synth_seconds": round(t1 - t0, 1), "train_seconds": round(t2 - t1, 1)}


def _fmt(column: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if column.endswith("_lead") or column == "lead_over_best":
        return f"{value:+.4f}"
    if column == "train_seconds":
        return f"{value:.0f}"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def print_table(rows: list[dict[str, Any]], test_year: int) -> None:
    cols = ["mechanism", "firms", "shipped", "shipped_ndcg@10", LEARNED, *BASELINES, "best_baseline",
            "lead_over_best", "lead_95", "learned_lead", "learned_lead_95", "train_seconds"]
    print(f"test year {test_year}, {METRIC} (relevant = approved); lead_over_best: the shipped choice minus the "
          "best baseline; learned_lead: the learned ranker's; *_95: their 95 % paired bootstrap interval over the "
          "test year's firms (the shipped choice is the best baseline itself: 0)")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(_fmt(c, r[c]) for c in cols) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--firms", type=int, action="append", help="history size (repeatable; default 3000)")
    parser.add_argument("--mechanism", action="append", choices=MECHANISMS, help="default: all of them")
    parser.add_argument("--years", type=int, default=5, help="years of history, the test year the last")
    parser.add_argument("--test-year", type=int, default=2024,
                        help="the year after the split: trained until 1 January, tested on the whole year "
                             "(2024: the validation year 2023 has the same catalog as the years fitted before it)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trees", type=int, default=150)
    parser.add_argument("--work", type=Path, help="keep histories and models here (default: a temporary directory)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    sizes = args.firms or [3000]
    mechanisms = args.mechanism or list(MECHANISMS)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        rows = [run_one(m, n, args, work) for n in sizes for m in mechanisms]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print_table(rows, args.test_year)


if __name__ == "__main__":
    main()
