"""SPEC §5 outputs before and after a refactoring: byte for byte, on real inputs.

Runs the command line of one source tree (``--tree``, default this checkout) on

- the sample firms (``match --all --explain`` on three dates),
- every hand-written case under ``tests/cases`` (its base profile with each case's changes,
  ``match --all --explain`` on the case file's date),
- a synthetic registry (``--firms``, default 100,000; ``recommender synth``, fixed seed):
  ``match-registry`` (CSV output and rejects), ``find-firms`` and ``screen`` for a few policies,

and prints one SHA-256 per output. ``--save FILE`` keeps them; ``--compare FILE`` exits 1 and
names every output that differs. A refactoring that may not change behaviour runs it on the
tree before (a ``git worktree`` of the base commit) and after::

    git worktree add /tmp/base <base-commit>
    python benchmarks/output_identity.py --tree /tmp/base --save /tmp/before.json
    python benchmarks/output_identity.py --compare /tmp/before.json

The synthetic registry is written by the tree under test too, so the generator must not change
either (it is one of the outputs compared). Timing figures (the summary's ``seconds``) are left
out of the hashes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent.parent
DATES = ("2022-06-30", "2023-03-01", "2026-12-06")
POLICIES = ("cn-tech-sme-evaluation", "cn-rd-super-deduction", "cn-little-giant", "cq-above-scale-upgrade")


def _run(tree: Path, *args: str, stdout: Path | None = None) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    with open(stdout, "wb") if stdout else open(os.devnull, "wb") as out:
        proc = subprocess.run([sys.executable, "-m", "recommender.cli.main", *args], cwd=tree, env=env,
                              stdout=out, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)}: exit {proc.returncode}: {proc.stderr.decode()[-2000:]}")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _case_profiles(tree: Path) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    """Per date, the profiles of every hand-written case (base with the case's changes)."""
    by_date: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for path in sorted((tree / "tests" / "cases").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for i, case in enumerate(doc["cases"]):
            profile = {**doc["base"], **(case.get("set") or {})}
            profile = {k: v for k, v in profile.items() if v is not None}
            profile["firm_id"] = f"{path.stem}#{i}"
            by_date.setdefault(str(doc["as_of"]), []).append(profile)
    return by_date


def outputs(tree: Path, firms: int, work: Path) -> dict[str, str]:
    """Every output's SHA-256, by name."""
    out: dict[str, str] = {}
    samples = tree / "data" / "samples" / "firms.jsonl"
    for day in DATES:
        target = work / f"samples-{day}.jsonl"
        _run(tree, "match", str(samples), "--all", "--explain", "--as-of", day, stdout=target)
        out[target.name] = _digest(target)
    for day, profiles in _case_profiles(tree).items():
        source = work / f"cases-{day}-in.jsonl"
        source.write_text("".join(json.dumps(p, ensure_ascii=False, default=str) + "\n" for p in profiles),
                          encoding="utf-8")
        target = work / f"cases-{day}.jsonl"
        _run(tree, "match", str(source), "--all", "--explain", "--as-of", day, stdout=target)
        out[target.name] = _digest(target)
    synth = work / "synth"
    _run(tree, "synth", "--firms", str(firms), "--years", "1", "--seed", "7", "--out", str(synth))
    registry = synth / "registry.parquet"
    out["registry.parquet"] = _digest(registry)
    result = work / "matches.csv"
    _run(tree, "match-registry", str(registry), "--out", str(result), "--as-of", "2022-06-30", "--quiet")
    out[result.name] = _digest(result)
    out["matches.rejects.csv"] = _digest(work / "matches.rejects.csv")
    summary = json.loads((work / "matches.summary.json").read_text(encoding="utf-8"))
    out["matches.summary.counts"] = hashlib.sha256(json.dumps(
        {k: summary[k] for k in ("rows_read", "firms_matched", "rows_rejected", "match_rows")},
        sort_keys=True).encode()).hexdigest()
    head = work / "applicants.csv"
    import pandas as pd                                   # only for cutting the applicants file
    pd.read_parquet(registry).head(2000).to_csv(head, index=False)
    for policy in POLICIES:
        found = work / f"find-{policy}.csv"
        _run(tree, "find-firms", str(registry), "--policy", policy, "--out", str(found), "--as-of", "2022-06-30")
        out[found.name] = _digest(found)
        screened = work / f"screen-{policy}.jsonl"
        _run(tree, "screen", str(head), "--policy", policy, "--as-of", "2022-06-30", stdout=screened)
        out[screened.name] = _digest(screened)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=HERE, help="source tree to run (default: this one)")
    parser.add_argument("--firms", type=int, default=100_000, help="synthetic registry size")
    parser.add_argument("--save", type=Path, help="write the hashes here")
    parser.add_argument("--compare", type=Path, help="compare with hashes saved earlier; exit 1 on a difference")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="identity-") as tmp:
        found = outputs(args.tree.resolve(), args.firms, Path(tmp))
    print(json.dumps(found, indent=1))
    if args.save:
        args.save.write_text(json.dumps({"firms": args.firms, "outputs": found}, indent=1), encoding="utf-8")
    if args.compare:
        saved = json.loads(args.compare.read_text(encoding="utf-8"))
        if saved["firms"] != args.firms:
            raise SystemExit(f"saved with --firms {saved['firms']}, run with {args.firms}")
        differ = sorted(k for k in set(saved["outputs"]) | set(found) if saved["outputs"].get(k) != found.get(k))
        print(f"{len(found) - len(differ)} of {len(found)} outputs identical" + (f"; differ: {differ}" if differ else ""))
        if differ:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
