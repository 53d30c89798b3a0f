"""``recommender synth``, ``train`` and ``evaluate`` (SPEC §6–7); registered by ``cli.py``.

Bad input (a missing file, an unknown column, a bad value) exits with status 2 and a message
naming the file and the field on stderr. The registry is read by the one registry reader of
every command, strictly: its first bad row (number, field, reason) refuses the file.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from recommender.cli.history import OutcomesDb, read_history
from recommender.errors import RecommenderError
from recommender.settings import DEFAULT_DATA_DIR

DEFAULT_UNTIL = dt.date(2023, 1, 1)
"""Default split: train on the windows before 2023, test on 2023. In 2020–21 only 10 of the 48
policies were in force and 36 started in 2022, so a 2022 test year is mostly a cold-start test;
2023 is the later period whose catalog the model has (mostly) seen — as when it is deployed."""
DEFAULT_END = "2023-12-31"


def _fail(message: str) -> typer.Exit:
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code=2)


def _date(text: str | None, name: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _fail(f"--{name}: {text!r} is not an ISO date (YYYY-MM-DD)") from None


def _load(data_dir: Path, catalog_dir: Path | None) -> tuple[Any, Any]:
    from recommender.rules import load_catalog
    from recommender.profile import load_reference
    try:
        return load_catalog(catalog_dir, data_dir=data_dir), load_reference(data_dir)
    except (RecommenderError, OSError) as err:
        raise _fail(str(err)) from None


def _profiles(path: Path, ref: Any) -> Any:
    """A registry as the typed profile frame training learns from: the one registry reader
    (:func:`recommender.profile.read_registry`), strict: a bad row refuses the file."""
    from recommender.profile import read_registry
    valid, _ = read_registry(path, ref, strict=True)
    return valid.drop(columns="_row")


DataDir = Annotated[Path, typer.Option("--data-dir", help="Data directory (reference tables, catalog).")]
CatalogDir = Annotated[Path | None, typer.Option("--catalog", help="Catalog directory (default DATA/catalog).")]


def synth(out: Annotated[Path, typer.Option("--out", help="Output directory.")],
          firms: Annotated[int, typer.Option("--firms", min=1, help="Number of firms.")] = 50_000,
          years: Annotated[int, typer.Option("--years", min=1, max=10, help="Years of history.")] = 4,
          seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
          end: Annotated[str, typer.Option("--end", help="Last day of the history.")] = DEFAULT_END,
          mechanism: Annotated[str, typer.Option(
              "--mechanism", help="What drives applications and approvals: margins (default), trend, "
              "taste or imbalanced (see data/synthetic_data_card.md).")] = "margins",
          data_dir: DataDir = DEFAULT_DATA_DIR, catalog_dir: CatalogDir = None) -> None:
    """Write a synthetic registry.parquet and interactions.parquet (see data/synthetic_data_card.md)."""
    from recommender.learning import MECHANISMS, write_synthetic
    if mechanism not in MECHANISMS:
        raise _fail(f"--mechanism: {mechanism!r} is not one of {', '.join(MECHANISMS)}")
    catalog, ref = _load(data_dir, catalog_dir)
    t0 = time.perf_counter()
    reg, ev = write_synthetic(out, firms, years, seed, catalog, ref,
                              _date(end, "end") or dt.date.fromisoformat(DEFAULT_END), mechanism=mechanism)
    print(f"wrote {reg} and {ev} in {time.perf_counter() - t0:.1f} s")


def train(firms: Annotated[Path, typer.Option("--firms", help="Registry (.csv, .parquet or .xlsx); any bad row refuses it.")],
          out: Annotated[Path, typer.Option("--out", help="Model directory to write.")],
          interactions: Annotated[Path | None, typer.Option(
              "--interactions", help="Interaction log (.parquet or .csv).")] = None,
          outcomes_db: OutcomesDb = None,
          until: Annotated[str | None, typer.Option("--until", help="Split date: train before, test after.")] = None,
          seed: Annotated[int, typer.Option("--seed")] = 0,
          trees: Annotated[int, typer.Option("--trees", min=10, help="LambdaRank trees.")] = 150,
          ship: Annotated[str | None, typer.Option(
              "--ship", help="Override the out-of-time gate: lambdarank, popularity, logistic or rules "
                             "(recorded in the manifest).")] = None,
          data_dir: DataDir = DEFAULT_DATA_DIR, catalog_dir: CatalogDir = None) -> None:
    """Gate the learned ranker against the baselines on the last training window, then fit and
    save what wins (LambdaRank + calibrated approval model, or the baseline); booster text + JSON.
    The history is --interactions, the outcomes recorded through the API (--outcomes-db), or both."""
    if ship is not None and ship not in ("lambdarank", "popularity", "logistic", "rules"):
        raise _fail(f"--ship: {ship!r} is not one of lambdarank, popularity, logistic, rules")
    from recommender.learning import training
    catalog, ref = _load(data_dir, catalog_dir)
    try:
        profiles = _profiles(firms, ref)
        history = read_history(interactions, outcomes_db)
        result = training.train(profiles, history.events, catalog, ref, _date(until, "until") or DEFAULT_UNTIL, out,
                                training_data_hash=history.data_hash(firms), seed=seed, n_estimators=trees,
                                ship=ship)
    except RecommenderError as err:
        raise _fail(str(err)) from None
    _print_gate(result.metrics["gate"])
    print("test period (the year after --until), models refitted on every training window:")
    _print_table(result.metrics["models"])
    _print_leads(result.metrics.get("test_leads"))
    print(f"approval ECE {result.metrics['approval_ece']:.4f}; fit {result.metrics['fit_seconds']:.1f} s; "
          f"total {result.seconds:.1f} s; shipped {result.metrics['gate']['shipped']}: "
          f"model {result.artifact.version} in {out}")


def _print_leads(leads: dict[str, Any] | None) -> None:
    """The test period's lead of the learned ranker (and of the shipped choice) over the best baseline."""
    if not leads:
        return
    best = leads["best_baseline"]
    for name, lead in leads.items():
        if name not in ("best_baseline", best):
            print(f"  {name} − {best} (best baseline on the test period): {lead['mean']:+.4f} "
                  f"(95 % {lead['lower']:+.4f} to {lead['upper']:+.4f})")

def evaluate(model: Annotated[Path, typer.Option("--model", help="Model directory.")],
             firms: Annotated[Path, typer.Option("--firms", help="Registry (.csv, .parquet or .xlsx); any bad row refuses it.")],
             interactions: Annotated[Path, typer.Option("--interactions", help="Interaction log.")],
             report: Annotated[Path, typer.Option("--report", help="Report directory (Markdown + PNG).")],
             until: Annotated[str | None, typer.Option("--until", help="Split date (default: the model's).")] = None,
             data_dir: DataDir = DEFAULT_DATA_DIR, catalog_dir: CatalogDir = None,
             check_catalog: Annotated[bool, typer.Option(help="Refuse a model built for another catalog.")] = True) -> None:
    """Score the model and every baseline on the period after --until; print a table, write a report."""
    from recommender.learning import training
    from recommender.learning import evaluate_model
    catalog, ref = _load(data_dir, catalog_dir)
    try:
        profiles = _profiles(firms, ref)
        events = training.read_interactions(interactions)
        result = evaluate_model(model, profiles, events, catalog, ref, _date(until, "until"), check_catalog)
    except RecommenderError as err:
        raise _fail(str(err)) from None
    if result.get("gate"):
        _print_gate(result["gate"])
    _print_table(result["models"])
    if result["approval_ece"] is not None:
        print(f"approval ECE {result['approval_ece']:.4f}")
    path = write_report(report, result)
    print(f"report: {path}")


def write_report(directory: Path, result: dict[str, Any]) -> Path:
    """Markdown report with PNG plots: NDCG@k curves, calibration curve, feature importance."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    directory.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, curve in result["ndcg_curves"].items():
        ax.plot(range(1, len(curve) + 1), curve, marker="o", label=name)
    ax.set(xlabel="k", ylabel="NDCG@k", title="NDCG@k on the test period")
    ax.legend()
    fig.savefig(directory / "ndcg_at_k.png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    rel = result["reliability"]
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    ax.plot([r[0] for r in rel], [r[1] for r in rel], marker="o")
    ece = result["approval_ece"]
    ax.set(xlabel="predicted approval probability", ylabel="observed approval rate",
           title="Calibration" + ("" if ece is None else f" (ECE {ece:.3f})"))
    fig.savefig(directory / "calibration.png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    top = sorted(result["importance"].items(), key=lambda kv: -kv[1])[:20]
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.barh([k for k, _ in top][::-1], [v for _, v in top][::-1])
    ax.set(xlabel="total gain", title="LambdaRank feature importance (top 20)")
    fig.savefig(directory / "feature_importance.png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    cols = ["ndcg@5", "ndcg@10", "map@10", "recall@10"]
    lines = [f"# Learned ranker evaluation ({result['model_version']})", "",
             f"Test period: the year from {result['until']}. Relevant = approved; firms with no "
             "approved policy are excluded (counted below).", "",
             "| model | " + " | ".join(cols) + " | queries | excluded |",
             "|---" * (len(cols) + 3) + "|"]
    for name, row in result["models"].items():
        lines.append(f"| {name} | " + " | ".join(f"{row[c]:.4f}" for c in cols)
                     + f" | {int(row['queries'])} | {int(row['excluded_queries'])} |")
    if result.get("gate"):
        lines += ["", "## How this model was chosen", "", *(f"    {line}" for line in gate_lines(result["gate"]))]
    lines += ["", "Approval-probability ECE (10 bins): "
              + ("n/a (no approval model)" if ece is None else f"{ece:.4f}"), "",
              "| predicted | observed | pairs |", "|---|---|---|"]
    lines += [f"| {p:.3f} | {o:.3f} | {n} |" for p, o, n in rel]
    lines += ["", "![NDCG@k](ndcg_at_k.png)", "", "![calibration](calibration.png)", "",
              "![importance](feature_importance.png)", ""]
    path = directory / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def gate_lines(gate: dict[str, Any]) -> list[str]:
    """The out-of-time gate's decision in words and a table (``train`` and the report)."""
    window = gate.get("validation_window") or ["", ""]
    lines = [f"out-of-time gate (validation {window[0]} to {window[1]}, "
             f"{gate.get('validation_firms', 0)} firms with an approval): {gate['reason']}"]
    for name, row in gate.get("candidates", {}).items():
        mark = "  <- shipped" if name == gate["shipped"] else ""
        lines.append(f"  {name:<12} NDCG@10 {row['ndcg@10']:.4f}  (95 % {row['lower']:.4f} to {row['upper']:.4f}){mark}")
    return lines


def _print_gate(gate: dict[str, Any]) -> None:
    print("\n".join(gate_lines(gate)))


def _print_table(table: dict[str, dict[str, float]]) -> None:
    cols = ["ndcg@5", "ndcg@10", "map@10", "recall@10", "queries", "excluded_queries"]
    print(f"{'model':<12}" + "".join(f"{c:>18}" for c in cols))
    for name, row in table.items():
        print(f"{name:<12}" + "".join(f"{row[c]:>18.4f}" if c.startswith(("ndcg", "map", "recall"))
                                      else f"{int(row[c]):>18d}" for c in cols))


def register(app: typer.Typer) -> None:
    """Add the ``synth``, ``train`` and ``evaluate`` commands to the CLI app."""
    app.command("synth")(synth)
    app.command("train")(train)
    app.command("evaluate")(evaluate)
